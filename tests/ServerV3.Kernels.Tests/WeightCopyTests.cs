using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Tests;

/// <summary>Matrices copied between weight stacks (how redundant experts are re-placed) compute exactly like the original.</summary>
[Collection(KernelDeviceCollection.Name)]
public sealed class WeightCopyTests(KernelTestDevice device)
{
    [Theory]
    [InlineData(WeightFormat.F32)]
    [InlineData(WeightFormat.Bf16)]
    [InlineData(WeightFormat.Fp8Block)]
    public void ACopiedMatrixGivesBitIdenticalProducts(WeightFormat format)
    {
        var random = new Random(40);
        const int rows = 130, cols = 136, tokens = 3;
        var (source, _) = device.RandomWeights(random, format, 3, rows, cols);
        var (target, _) = device.RandomWeights(random, format, 2, rows, cols);
        var x = new Rows(device.Upload(KernelTestDevice.RandomValues(random, tokens * cols)), cols);

        target.CopyMatrix(1, source, 2);

        var expected = device.Poisoned(tokens * rows);
        var actual = device.Poisoned(tokens * rows);
        device.Cpu.Linear(source, 2, x, new Rows(expected, rows), new LinearShape(tokens, cols, rows, 0));
        device.Cpu.Linear(target, 1, x, new Rows(actual, rows), new LinearShape(tokens, cols, rows, 0));
        Assert.Equal(KernelTestDevice.Download(expected), KernelTestDevice.Download(actual));
    }

    [Fact]
    public void ShapesAndFormatsMustMatch()
    {
        var random = new Random(41);
        var (bf16, _) = device.RandomWeights(random, WeightFormat.Bf16, 1, 4, 8);
        var (fp8, _) = device.RandomWeights(random, WeightFormat.Fp8Block, 1, 4, 8);
        var (wide, _) = device.RandomWeights(random, WeightFormat.Bf16, 1, 4, 16);
        Assert.Throws<ArgumentException>(() => bf16.CopyMatrix(0, fp8, 0));
        Assert.Throws<ArgumentException>(() => bf16.CopyMatrix(0, wide, 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => bf16.CopyMatrix(1, bf16, 0));
    }
}
