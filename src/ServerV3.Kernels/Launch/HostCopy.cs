using ILGPU;
using ILGPU.Runtime;

namespace ServerV3.Kernels.Launch;

/// <summary>
/// Copies between host memory and device buffers with the host memory pinned for the whole copy. ILGPU's
/// CopyFromCPU/CopyToCPU(ref T, length) take the address of a managed array without pinning it, so a garbage
/// collection started by another thread during the copy could move the array and the copy would read or write
/// the memory it left: seen as wrong tokens and out-of-range block indices when two engines shared a process.
/// On the CPU accelerator (whose buffers are host memory and whose launches finish before they return) a copy is a
/// plain memory copy; ILGPU's own would allocate a wrapper object per call, a few KiB per decode step.
/// </summary>
public static unsafe class HostCopy
{
    public static void ToDevice<T>(ArrayView<T> target, ReadOnlySpan<T> source) where T : unmanaged
    {
        if (source.IsEmpty) return;
        // SubView checks that the target is long enough.
        target = target.SubView(0, source.Length);
        if (target.GetAcceleratorType() == AcceleratorType.CPU)
        {
            source.CopyTo(new Span<T>(Cpu.CpuPointers.Of(target), source.Length));
            return;
        }
        fixed (T* pointer = source) target.CopyFromCPU(ref *pointer, source.Length);
    }

    public static void ToHost<T>(ArrayView<T> source, Span<T> target) where T : unmanaged
    {
        if (target.IsEmpty) return;
        source = source.SubView(0, target.Length);
        if (source.GetAcceleratorType() == AcceleratorType.CPU)
        {
            new ReadOnlySpan<T>(Cpu.CpuPointers.Of(source), target.Length).CopyTo(target);
            return;
        }
        fixed (T* pointer = target) source.CopyToCPU(ref *pointer, target.Length);
    }

    /// <summary>A new device buffer holding <paramref name="values"/>.</summary>
    public static MemoryBuffer1D<T, Stride1D.Dense> Upload<T>(Accelerator accelerator, ReadOnlySpan<T> values) where T : unmanaged
    {
        var buffer = AlignedBuffer<T>.Allocate(accelerator, values.Length);
        ToDevice(buffer.View, values);
        return buffer;
    }
}
