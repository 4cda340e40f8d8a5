using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;
using ServerV3.Kernels.Numerics;

namespace ServerV3.Kernels.Tests;

/// <summary>Linear, RMSNorm fused into a linear, fused RMSNorm + SwiGLU gate/up, RMSNorm, embedding lookup and row gathering against the C# references.</summary>
public abstract class DenseKernelTests(KernelTestDevice device)
{
    protected abstract KernelSet Kernels { get; }

    private protected KernelTestDevice Device => device;

    [Collection(KernelDeviceCollection.Name)]
    public sealed class CpuBodies(KernelTestDevice device) : DenseKernelTests(device)
    {
        protected override KernelSet Kernels => Device.Cpu;

        /// <summary>The CPU GEMM's token blocks (256 KiB of activations: 4 tokens of 20,000 columns; 18 tokens are 5 blocks,
        /// the last a pair) leave every row as it is alone. The portable bodies have no token blocks (and take seconds here).</summary>
        [Fact]
        public void TokenBlocksDoNotChangeARowsResult() => AssertEachRowAsAlone(18, 20_000);

        /// <summary>The engine's CPU numbers do not change with the fusion: same normalised values, same products.</summary>
        [Fact]
        public void NormLinearEqualsRmsNormThenLinearBitForBit()
        {
            var random = new Random(8);
            const int rows = 72, cols = 200, tokens = 9;
            var (weights, _) = Device.RandomWeights(random, WeightFormat.Bf16, 1, rows, cols);
            var x = Device.Upload(KernelTestDevice.RandomValues(random, tokens * cols, 3));
            var norm = Device.Upload(KernelTestDevice.RandomValues(random, cols));
            var normed = Device.Poisoned(tokens * cols);
            var separate = Device.Poisoned(tokens * rows);
            var fused = Device.Poisoned(tokens * rows);

            Kernels.RmsNorm(new Rows(x, cols), new Rows(normed, cols), norm, tokens, cols, 1e-6f);
            Kernels.Linear(weights, 0, new Rows(normed, cols), new Rows(separate, rows), new LinearShape(tokens, cols, rows, 0));
            Kernels.NormLinear(new Rows(x, cols), norm, 1e-6f, weights, new Rows(fused, rows), tokens);

            Assert.Equal(KernelTestDevice.Download(separate), KernelTestDevice.Download(fused));
        }
    }

    [Collection(KernelDeviceCollection.Name)]
    public sealed class PortableBodies(KernelTestDevice device) : DenseKernelTests(device)
    {
        protected override KernelSet Kernels => Device.Portable;
    }

    [Collection(KernelDeviceCollection.Name)]
    public sealed class GpuShapedPortableBodies(KernelTestDevice device) : DenseKernelTests(device)
    {
        protected override KernelSet Kernels => Device.GpuShaped;
    }

    private const double Tolerance = 1e-5;

    /// <param name="tokens">5 to 7: one pass over each 4-row block for all of them; 1 to 3: the few-token path, which walks two halves of each
    /// row range together with all its tokens at once (203 rows: some ranges have an odd number of 4-row blocks, and a
    /// tail row); 17 and 18: the CPU GEMM's fp32 panel, 4-token blocks then a single or a pair, with a column tail.</param>
    [Theory]
    [InlineData(WeightFormat.F32, 5)]
    [InlineData(WeightFormat.Bf16, 5)]
    [InlineData(WeightFormat.Fp8Block, 5)]
    [InlineData(WeightFormat.Bf16, 1)]
    [InlineData(WeightFormat.Fp8Block, 1)]
    [InlineData(WeightFormat.Bf16, 3)]
    [InlineData(WeightFormat.Bf16, 6)]
    [InlineData(WeightFormat.Fp8Block, 7)]
    [InlineData(WeightFormat.F32, 2)]
    [InlineData(WeightFormat.Bf16, 17)]
    [InlineData(WeightFormat.Fp8Block, 18)]
    public void LinearMatchesReferenceForEveryFormat(WeightFormat format, int tokens)
    {
        var random = new Random(1);
        const int rows = 203, cols = 300, stride = 310, offset = 7;
        var (weights, values) = device.RandomWeights(random, format, 2, rows, cols);
        var x = KernelTestDevice.RandomValues(random, tokens * cols);
        var strided = new float[tokens * stride + offset];
        for (int t = 0; t < tokens; t++) x.AsSpan(t * cols, cols).CopyTo(strided.AsSpan(offset + t * stride));
        var output = device.Poisoned(tokens * rows);

        Kernels.Linear(weights, 1, new Rows(device.Upload(strided), stride, offset), new Rows(output, rows), new LinearShape(tokens, cols, rows, 0));

        var expected = Reference.MatMul(values.AsSpan(rows * cols), rows, cols, x, tokens);
        Assert.True(RelativeError.L2(KernelTestDevice.Download(output), expected) < Tolerance);
    }

    /// <param name="tokens">1: the one-token matvec; 3: three tokens per weight load; 5: five (the sums stored a row at a
    /// time, with the columns past the last whole 32-column chunk when <paramref name="cols"/> has them).</param>
    [Theory]
    [InlineData(1, 48)]
    [InlineData(3, 48)]
    [InlineData(5, 64)]
    [InlineData(5, 48)]
    public void LinearAccumulatesIntoTheOutput(int tokens, int cols)
    {
        var random = new Random(2);
        const int rows = 64;
        var (weights, values) = device.RandomWeights(random, WeightFormat.Bf16, 1, rows, cols);
        var x = KernelTestDevice.RandomValues(random, tokens * cols);
        var residual = KernelTestDevice.RandomValues(random, tokens * rows);
        var output = device.Upload(residual.ToArray());

        Kernels.Linear(weights, 0, new Rows(device.Upload(x), cols), new Rows(output, rows), new LinearShape(tokens, cols, rows, 1));

        var expected = Reference.MatMul(values, rows, cols, x, tokens).Select((v, i) => v + residual[i]).ToArray();
        Assert.True(RelativeError.L2(KernelTestDevice.Download(output), expected) < Tolerance);
    }

    /// <param name="batch">2: two tokens per weight load; 3: three (a pair and a single in a range's odd middle block);
    /// 7: seven tokens per weight load; 10: fp32 panels, two blocks of 4 tokens and a pair; 16: fp32 panels of 4 tokens.</param>
    /// <param name="cols">144: a part chunk after the 32-column ones; 128: none (the sums stored as vectors).</param>
    [Theory]
    [InlineData(2, 144)]
    [InlineData(3, 144)]
    [InlineData(7, 144)]
    [InlineData(7, 128)]
    [InlineData(10, 144)]
    [InlineData(16, 144)]
    [InlineData(16, 128)]
    public void ARowsResultDoesNotDependOnTheOtherRowsOfTheBatch(int batch, int cols) => AssertEachRowAsAlone(batch, cols);

    /// <summary>Linear over <paramref name="batch"/> random tokens gives each token's row exactly as a launch of that token alone.</summary>
    private protected void AssertEachRowAsAlone(int batch, int cols)
    {
        var random = new Random(3);
        const int rows = 96;
        var (weights, _) = device.RandomWeights(random, WeightFormat.Bf16, 1, rows, cols);
        var x = KernelTestDevice.RandomValues(random, batch * cols);
        var batched = device.Poisoned(batch * rows);
        Kernels.Linear(weights, 0, new Rows(device.Upload(x), cols), new Rows(batched, rows), new LinearShape(batch, cols, rows, 0));

        var together = KernelTestDevice.Download(batched);
        for (int t = 0; t < batch; t++)
        {
            var alone = device.Poisoned(rows);
            Kernels.Linear(weights, 0, new Rows(device.Upload(x.AsSpan(t * cols, cols).ToArray()), cols), new Rows(alone, rows), new LinearShape(1, cols, rows, 0));
            Assert.Equal(KernelTestDevice.Download(alone), together.AsSpan(t * rows, rows).ToArray());
        }
    }

    /// <param name="tokens">5: the CPU GEMM's 4-token panel and a single token.</param>
    [Theory]
    [InlineData(WeightFormat.Bf16, 5)]
    [InlineData(WeightFormat.Fp8Block, 1)]
    public void GateUpIsSiluOfGateTimesUpOfTheNormalisedRows(WeightFormat format, int tokens)
    {
        var random = new Random(4);
        const int rows = 130, cols = 140;
        var (gate, gateValues) = device.RandomWeights(random, format, 1, rows, cols);
        var (up, upValues) = device.RandomWeights(random, format, 1, rows, cols);
        var x = KernelTestDevice.RandomValues(random, tokens * cols, 3);
        var norm = KernelTestDevice.RandomValues(random, cols);
        var output = device.Poisoned(tokens * rows);

        Kernels.GateUp(new Rows(device.Upload(x), cols), device.Upload(norm), 1e-6f, gate, up, new Rows(output, rows), new Rows(device.Poisoned(tokens * rows), rows), tokens);

        var normed = Enumerable.Range(0, tokens).SelectMany(t => Reference.RmsNorm(x.AsSpan(t * cols, cols), norm, 1e-6f)).ToArray();
        var g = Reference.MatMul(gateValues, rows, cols, normed, tokens);
        var u = Reference.MatMul(upValues, rows, cols, normed, tokens);
        var expected = g.Select((v, i) => Reference.Silu(v) * u[i]).ToArray();
        Assert.True(RelativeError.L2(KernelTestDevice.Download(output), expected) < Tolerance);
    }

    /// <param name="secondRows">Rows of a second projection of the same normalised rows in the same launch (0: none);
    /// 37 with 70: the CPU workers' row ranges straddle the two projections.</param>
    [Theory]
    [InlineData(WeightFormat.F32, 0)]
    [InlineData(WeightFormat.Bf16, 37)]
    [InlineData(WeightFormat.Bf16, 0)]
    [InlineData(WeightFormat.Fp8Block, 37)]
    public void NormLinearProjectsTheNormalisedRows(WeightFormat format, int secondRows)
    {
        var random = new Random(7);
        const int rows = 70, cols = 160, tokens = 6;
        var (weights, values) = device.RandomWeights(random, format, 1, rows, cols);
        var (second, secondValues) = device.RandomWeights(random, format, 1, Math.Max(secondRows, 1), cols);
        var x = KernelTestDevice.RandomValues(random, tokens * cols, 3);
        var norm = KernelTestDevice.RandomValues(random, cols);
        var output = device.Poisoned(tokens * rows);
        var secondOutput = device.Poisoned(tokens * Math.Max(secondRows, 1));

        Kernels.NormLinear(new Rows(device.Upload(x), cols), device.Upload(norm), 1e-6f,
            weights, new Rows(output, rows), tokens, secondRows > 0 ? second : null, new Rows(secondOutput, secondRows));

        var expectedNormed = Enumerable.Range(0, tokens).SelectMany(t => Reference.RmsNorm(x.AsSpan(t * cols, cols), norm, 1e-6f)).ToArray();
        Assert.True(RelativeError.L2(KernelTestDevice.Download(output), Reference.MatMul(values, rows, cols, expectedNormed, tokens)) < Tolerance);
        if (secondRows > 0)
            Assert.True(RelativeError.L2(KernelTestDevice.Download(secondOutput), Reference.MatMul(secondValues, secondRows, cols, expectedNormed, tokens)) < Tolerance);
        else
            Assert.All(KernelTestDevice.Download(secondOutput), v => Assert.True(float.IsNaN(v)));
    }

    [Fact]
    public void RmsNormNormalisesEachRow()
    {
        var random = new Random(5);
        const int tokens = 7, dim = 96;
        var x = KernelTestDevice.RandomValues(random, tokens * dim, 3);
        var weight = KernelTestDevice.RandomValues(random, dim);
        var output = device.Poisoned(tokens * dim);

        Kernels.RmsNorm(new Rows(device.Upload(x), dim), new Rows(output, dim), device.Upload(weight), tokens, dim, 1e-6f);

        var expected = Enumerable.Range(0, tokens).SelectMany(t => Reference.RmsNorm(x.AsSpan(t * dim, dim), weight, 1e-6f)).ToArray();
        Assert.True(RelativeError.L2(KernelTestDevice.Download(output), expected) < Tolerance);
    }

    /// <param name="dim">24: the CPU body's scalar tail only; 80: two 32-column chunks and a tail.</param>
    [Theory]
    [InlineData(WeightFormat.Bf16, 24)]
    [InlineData(WeightFormat.F32, 24)]
    [InlineData(WeightFormat.Bf16, 80)]
    [InlineData(WeightFormat.F32, 80)]
    [InlineData(WeightFormat.Fp8Block, 80)]
    public void LookupAndGatherCopyRows(WeightFormat format, int dim)
    {
        var random = new Random(6);
        const int vocab = 50;
        var (table, values) = device.RandomWeights(random, format, 1, vocab, dim);
        int[] ids = [3, 49, 0, 3];
        var embedded = device.Poisoned(ids.Length * dim);
        var gathered = device.Poisoned(2 * dim);

        Kernels.Lookup(table, device.Upload(ids), new Rows(embedded, dim), ids.Length, dim);
        Kernels.GatherRows(new Rows(embedded, dim), device.Upload(new[] { 1, 3 }), new Rows(gathered, dim), 2, dim);

        var expected = ids.SelectMany(id => values.AsSpan(id * dim, dim).ToArray()).ToArray();
        Assert.Equal(expected, KernelTestDevice.Download(embedded));
        Assert.Equal(expected.AsSpan(dim, dim).ToArray().Concat(expected.AsSpan(3 * dim, dim).ToArray()), KernelTestDevice.Download(gathered));
    }
}
