using ILGPU;
using ILGPU.Runtime;
using ServerV3.Kernels.Numerics;
using ServerV3.Kernels.Probes;

namespace ServerV3.Kernels.Tests;

/// <summary>The bench's GPU probes compute what they claim, here with a grid-stride launch on the CPU accelerator.</summary>
[Collection(KernelDeviceCollection.Name)]
public sealed class ProbeKernelTests(KernelTestDevice device)
{
    private static readonly KernelConfig Launch = new(3, 4); // 12 threads over lengths that do not divide evenly

    [Fact]
    public void TriadIsBPlusScaledC()
    {
        var random = new Random(21);
        var b = KernelTestDevice.RandomValues(random, 1001);
        var c = KernelTestDevice.RandomValues(random, 1001);
        var a = device.Poisoned(1001);
        device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(ProbeKernels.Triad)(
            Launch, a, device.Upload(b), device.Upload(c), 3f);
        Assert.Equal(b.Zip(c, (x, y) => x + 3f * y).ToArray(), KernelTestDevice.Download(a));
    }

    [Fact]
    public void ReadPartialsSumToTheData()
    {
        var data = KernelTestDevice.RandomValues(new Random(22), 1001);
        var partials = device.Poisoned(12);
        device.Accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(ProbeKernels.Read)(Launch, device.Upload(data), partials);
        var expected = Enumerable.Range(0, 12).Select(t => data.Where((_, i) => i % 12 == t).Aggregate(0f, (sum, v) => sum + v)).ToArray();
        Assert.Equal(expected, KernelTestDevice.Download(partials));
    }

    [Fact]
    public void MultiplyAddRunsEightChainsPerThread()
    {
        var output = device.Poisoned(12);
        device.Accelerator.LoadStreamKernel<ArrayView<float>, int>(ProbeKernels.MultiplyAdd)(Launch, output, 50);
        var expected = Enumerable.Range(0, 12).Select(t =>
        {
            var chains = Enumerable.Range(0, 8).Select(j => t * 1e-7f + j).ToArray();
            for (int i = 0; i < 50; i++)
                for (int j = 0; j < 8; j++) chains[j] = chains[j] * 0.999f + 0.001f;
            return chains.Aggregate(0f, (sum, v) => sum + v);
        }).ToArray();
        Assert.True(RelativeError.L2(KernelTestDevice.Download(output), expected) < 1e-6);
    }
}
