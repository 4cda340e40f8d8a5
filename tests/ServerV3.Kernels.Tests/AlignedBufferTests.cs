using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Tests;

/// <summary>CPU buffers start on a cache line, and behave as whole buffers of their length for copies and fills.</summary>
[Collection(KernelDeviceCollection.Name)]
public sealed class AlignedBufferTests(KernelTestDevice device)
{
    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    [InlineData(4096)]
    public void EveryElementTypeStartsOnA64ByteBoundary(int length)
    {
        AssertAligned(AlignedBuffer<float>.Allocate(device.Accelerator, length), length);
        AssertAligned(AlignedBuffer<ushort>.Allocate(device.Accelerator, length), length);
        AssertAligned(AlignedBuffer<byte>.Allocate(device.Accelerator, length), length);
    }

    [Fact]
    public void CopiesAndFillsCoverExactlyTheBuffer()
    {
        const int length = 1000;
        using var buffer = AlignedBuffer<int>.Allocate(device.Accelerator, length);
        var values = Enumerable.Range(1, length).ToArray();
        HostCopy.ToDevice<int>(buffer.View, values);
        Assert.Equal(values, KernelTestDevice.Download<int>(buffer.View));

        // ILGPU fills through the buffer as a view of itself (index 0): it must start where View does.
        buffer.MemSetToZero();
        device.Accelerator.Synchronize();
        Assert.All(KernelTestDevice.Download<int>(buffer.View), v => Assert.Equal(0, v));
    }

    private static unsafe void AssertAligned<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, int length) where T : unmanaged
    {
        using (buffer)
        {
            Assert.Equal(length, buffer.Length);
            Assert.Equal(0, (long)Unsafe.AsPointer(ref buffer.View[0]) % 64);
        }
    }
}
