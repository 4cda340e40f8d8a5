using System.Runtime.CompilerServices;
using ILGPU;

namespace ServerV3.Kernels.Cpu;

/// <summary>Raw addresses of CPU-accelerator views (their buffers are unmovable host memory).</summary>
internal static unsafe class CpuPointers
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static T* Of<T>(ArrayView<T> view) where T : unmanaged => (T*)Unsafe.AsPointer(ref view[0]);
}
