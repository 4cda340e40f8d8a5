using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Rope;
using ServerV3.Kernels.Weights;
using ServerV3.Kernels.Numerics;

namespace ServerV3.Kernels.Tests;

/// <summary>The latent-cache write (with RoPE), absorbed-query MLA over block tables, the query absorption (with RoPE) and the value expansion.</summary>
public abstract class AttentionKernelTests(KernelTestDevice device)
{
    protected abstract KernelSet Kernels { get; }

    private protected KernelTestDevice Device => device;

    [Collection(KernelDeviceCollection.Name)]
    public sealed class CpuBodies(KernelTestDevice device) : AttentionKernelTests(device)
    {
        protected override KernelSet Kernels => Device.Cpu;
    }

    [Collection(KernelDeviceCollection.Name)]
    public sealed class PortableBodies(KernelTestDevice device) : AttentionKernelTests(device)
    {
        protected override KernelSet Kernels => Device.Portable;
    }

    [Collection(KernelDeviceCollection.Name)]
    public sealed class GpuShapedPortableBodies(KernelTestDevice device) : AttentionKernelTests(device)
    {
        protected override KernelSet Kernels => Device.GpuShaped;
    }

    private const double Tolerance = 1e-5;
    private const int Heads = 3, Nope = 8, RopeDim = 4, Value = 6, BlockSize = 4;
    private static readonly double[] InverseFrequencies = [1.0, 0.1];

    /// <param name="latent">10: scalar tails only; 48 (width 52): full, half and tail chunks of the SIMD body; 80: the
    /// two-head accumulation's 64-column blocks and a 16-column chunk.</param>
    /// <param name="heads">10 with the CPU body's groups of 8: a full group (two four-head accumulations) and a partial
    /// one (a pair); 3: a pair and a single head.</param>
    /// <param name="firstLength">Positions of sequence 0; sequence 1 has <paramref name="secondLength"/> (40: several of the
    /// CPU body's 16-key blocks and a partial one; 150: two of the portable body's 64-key blocks and a partial one).</param>
    [Theory]
    [InlineData(3, 10, 5, 8)]
    [InlineData(10, 48, 21, 40)]
    [InlineData(2, 80, 70, 150)]
    public void PagedAttentionOverMixedSequencesMatchesDenseCausalAttention(int heads, int latent, int firstLength, int secondLength)
    {
        var random = new Random(11);
        int width = latent + RopeDim;
        // Both sequences prefill from position 0 in one flattened batch; their blocks interleave in the cache.
        int[] tokenSequence = [.. Enumerable.Repeat(0, firstLength), .. Enumerable.Repeat(1, secondLength)];
        int[] positions = [.. Enumerable.Range(0, firstLength), .. Enumerable.Range(0, secondLength)];
        int maxBlocks = (Math.Max(firstLength, secondLength) + BlockSize - 1) / BlockSize;
        int[][] blockTables = [[.. Enumerable.Range(0, maxBlocks).Select(b => 2 * maxBlocks - 1 - 2 * b)], [.. Enumerable.Range(0, maxBlocks).Select(b => 2 * b)]];
        int tokens = positions.Length;
        var kva = KernelTestDevice.RandomValues(random, tokens * width);
        var norm = KernelTestDevice.RandomValues(random, latent);
        var qAbs = KernelTestDevice.RandomValues(random, tokens * heads * width);
        var tables = Reference.RopeTables(InverseFrequencies, secondLength + firstLength);
        var cache = device.Poisoned(2 * maxBlocks * BlockSize * width);
        var output = device.Poisoned(tokens * heads * latent);
        var layout = new PagedLayout(device.Upload(blockTables.SelectMany(b => b).ToArray()), device.Upload(tokenSequence), device.Upload(positions), BlockSize, maxBlocks);
        var rope = new RopeTables(device.Upload(tables.CosF), device.Upload(tables.SinF));
        var shape = new MlaShape(tokens, heads, Nope, RopeDim, Value, latent, 0.3f, 1e-6f);

        Kernels.WriteLatent(new Rows(device.Upload(kva), width), device.Upload(norm), cache, layout, rope, shape);
        Kernels.Attend(new Rows(device.Upload(qAbs), width), cache, layout, new Rows(output, latent), shape, positions.Sum(p => p + 1L));

        // Reference: each token's cache entry, then softmax attention over its own sequence's earlier positions.
        var keys = Enumerable.Range(0, tokens).Select(t =>
            Reference.RmsNorm(kva.AsSpan(t * width, latent), norm, 1e-6f)
                .Concat(Reference.Rotate(kva.AsSpan(t * width + latent, RopeDim), positions[t], InverseFrequencies)).ToArray()).ToArray();
        var cached = KernelTestDevice.Download(cache);
        for (int t = 0; t < tokens; t++)
        {
            int slot = blockTables[tokenSequence[t]][positions[t] / BlockSize] * BlockSize + positions[t] % BlockSize;
            Assert.True(RelativeError.L2(cached.AsSpan(slot * width, width), keys[t]) < Tolerance);
        }
        var expected = new float[tokens * heads * latent];
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < heads; h++)
            {
                var query = qAbs.AsSpan((t * heads + h) * width, width).ToArray();
                var visible = Enumerable.Range(0, tokens).Where(s => tokenSequence[s] == tokenSequence[t] && positions[s] <= positions[t]).ToArray();
                var scores = visible.Select(s => 0.3 * Reference.Dot(query, keys[s])).ToArray();
                double max = scores.Max();
                var weights = scores.Select(v => Math.Exp(v - max)).ToArray();
                double total = weights.Sum();
                for (int c = 0; c < latent; c++)
                    expected[(t * heads + h) * latent + c] = (float)visible.Select((s, i) => weights[i] / total * keys[s][c]).Sum();
            }
        Assert.True(RelativeError.L2(KernelTestDevice.Download(output), expected) < Tolerance);
    }

    /// <param name="latent">10: scalar columns only; 72: two 32-column chunks of the CPU body and a scalar tail.</param>
    /// <param name="tokens">6: a four-token block of the CPU body and two single tokens.</param>
    [Theory]
    [InlineData(WeightFormat.Bf16, 10, 6)]
    [InlineData(WeightFormat.Bf16, 72, 6)]
    [InlineData(WeightFormat.Fp8Block, 72, 5)]
    public void AbsorbedQueryRotatesItsRopePartAndValueExpansionUsesTheKvBSlices(WeightFormat format, int latentWidth, int tokens)
    {
        var random = new Random(12);
        const int kvHead = Nope + Value, qHead = Nope + RopeDim;
        int width = latentWidth + RopeDim;
        var (kvB, w) = device.RandomWeights(random, format, 1, Heads * kvHead, latentWidth);
        var q = KernelTestDevice.RandomValues(random, tokens * Heads * qHead);
        var latent = KernelTestDevice.RandomValues(random, tokens * Heads * latentWidth);
        int[] positions = [.. Enumerable.Range(0, tokens).Select(t => 3 * t + 1)];
        var tables = Reference.RopeTables(InverseFrequencies, 3 * tokens + 1);
        var absorbed = device.Poisoned(tokens * Heads * width);
        var values = device.Poisoned(tokens * Heads * Value);
        var shape = new MlaShape(tokens, Heads, Nope, RopeDim, Value, latentWidth, 1, 1e-6f);

        Kernels.AbsorbQuery(kvB, new Rows(device.Upload(q), Heads * qHead), device.Upload(positions),
            new RopeTables(device.Upload(tables.CosF), device.Upload(tables.SinF)), new Rows(absorbed, width), shape);
        Kernels.ExpandValues(kvB, new Rows(device.Upload(latent), latentWidth), new Rows(values, Heads * Value), shape);

        var expectedAbsorbed = new float[tokens * Heads * width];
        var expectedValues = new float[tokens * Heads * Value];
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < Heads; h++)
            {
                int item = t * Heads + h;
                for (int c = 0; c < latentWidth; c++)
                    expectedAbsorbed[item * width + c] = (float)Enumerable.Range(0, Nope)
                        .Sum(d => (double)q[t * Heads * qHead + h * qHead + d] * w[(h * kvHead + d) * latentWidth + c]);
                Reference.Rotate(q.AsSpan(t * Heads * qHead + h * qHead + Nope, RopeDim), positions[t], InverseFrequencies)
                    .CopyTo(expectedAbsorbed, item * width + latentWidth);
                for (int j = 0; j < Value; j++)
                    expectedValues[t * Heads * Value + h * Value + j] =
                        Reference.Dot(w.AsSpan((h * kvHead + Nope + j) * latentWidth, latentWidth), latent.AsSpan(item * latentWidth, latentWidth));
            }
        Assert.True(RelativeError.L2(KernelTestDevice.Download(absorbed), expectedAbsorbed) < Tolerance);
        Assert.True(RelativeError.L2(KernelTestDevice.Download(values), expectedValues) < Tolerance);
    }
}
