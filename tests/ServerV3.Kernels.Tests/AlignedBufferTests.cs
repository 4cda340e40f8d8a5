using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Runtime;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

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

    /// <summary>The weights are what the CPU kernels stream with Vector512 loads.</summary>
    [Fact]
    public void WeightsOfEveryFormatStartOnA64ByteBoundary()
    {
        using var f32 = new WeightBuffer(device.Accelerator, WeightFormat.F32, 2, 3, 5);
        using var bf16 = new WeightBuffer(device.Accelerator, WeightFormat.Bf16, 2, 3, 5);
        using var fp8 = new WeightBuffer(device.Accelerator, WeightFormat.Fp8Block, 2, 3, 5, device.Cpu.Fp8DecodeTable);
        Assert.Equal(0, Address(f32.AsF32().Data) % 64);
        Assert.Equal(0, Address(bf16.AsBf16().Data) % 64);
        Assert.Equal(0, Address(fp8.AsFp8().Data) % 64);
        Assert.Equal(0, Address(fp8.AsFp8().Scales) % 64);
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

    private static void AssertAligned<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, int length) where T : unmanaged
    {
        using (buffer)
        {
            Assert.Equal(length, buffer.Length);
            Assert.Equal(0, Address<T>(buffer.View) % 64);
        }
    }

    private static unsafe long Address<T>(ArrayView<T> view) where T : unmanaged => (long)Unsafe.AsPointer(ref view[0]);
}
