using System.Runtime.CompilerServices;
using ILGPU;

namespace ServerV3.Kernels.Cpu;

/// <summary>Raw addresses of CPU-accelerator views (their buffers are unmovable host memory).</summary>
internal static unsafe class CpuPointers
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T* Of<T>(ArrayView<T> view) where T : unmanaged => (T*)Unsafe.AsPointer(ref view[0]);

    /// <summary>A cache line, and a Vector512.</summary>
    public const int LineBytes = 64;

    /// <summary>Floats a buffer needs beyond its size for <see cref="LineAligned"/> to fit it.</summary>
    public const int LinePadding = LineBytes / sizeof(float);

    /// <summary>
    /// The first 64-byte boundary at or after <paramref name="buffer"/>: stackalloc aligns to 16 bytes, and a Vector512
    /// load across two lines costs two (expanded attention over a 512-token prefill: 90-97 -> 81-89 ms, interleaved).
    /// </summary>
    public static float* LineAligned(float* buffer) => (float*)(((nint)buffer + LineBytes - 1) & ~(nint)(LineBytes - 1));
}
