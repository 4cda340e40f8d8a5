using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// Each CPU worker thread's scratch for weight rows widened to fp32. It grows to the largest request and is then
/// reused, so the steady state allocates nothing; it lives on the pinned heap, so its address is stable.
/// </summary>
internal static unsafe class WidenedPanel
{
    [ThreadStatic] private static float[]? buffer;

    /// <summary>At least <paramref name="floats"/> floats, 64-byte aligned, owned by the calling thread.</summary>
    public static float* Get(int floats)
    {
        if (buffer is null || buffer.Length < floats + CpuPointers.LinePadding)
            buffer = GC.AllocateUninitializedArray<float>(floats + CpuPointers.LinePadding, pinned: true);
        return CpuPointers.LineAligned((float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(buffer)));
    }
}
