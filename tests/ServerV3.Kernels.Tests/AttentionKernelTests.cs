using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Rope;
using ServerV3.Kernels.Weights;
using ServerV3.Kernels.Numerics;

namespace ServerV3.Kernels.Tests;

/// <summary>The latent-cache write (with RoPE) and the one-launch MLA attention (query absorption with RoPE, attention over block tables, value expansion).</summary>
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

    /// <param name="latent">10: scalar columns only; 48 (width 52): full, half and tail chunks of the SIMD scores and
    /// one 32-column chunk of the absorption; 80: the two-head accumulation's 64-column blocks and a 16-column chunk.</param>
    /// <param name="heads">10 with the CPU body's groups of 8: a full group (two four-head accumulations) and a partial
    /// one (a pair); 3: a pair and a single head.</param>
    /// <param name="firstLength">Positions of sequence 0; sequence 1 has <paramref name="secondLength"/> (40: several of the
    /// CPU body's 16-key blocks and a partial one; 150: two of the portable body's 64-key blocks and a partial one). The
    /// token counts (13, 61, 220) give the CPU body's 16-token work items, partial ones, and their 4-token and single-token absorptions.</param>
    /// <param name="writeInProjection">The cache write rides in a projection's launch (as with q_b) instead of its own.</param>
    [Theory]
    [InlineData(WeightFormat.Bf16, 3, 10, 5, 8, false)]
    [InlineData(WeightFormat.Bf16, 10, 48, 21, 40, true)]
    [InlineData(WeightFormat.Fp8Block, 2, 80, 70, 150, false)]
    public void PagedMlaOverMixedSequencesMatchesDenseCausalAttention(WeightFormat format, int heads, int latent, int firstLength, int secondLength, bool writeInProjection)
    {
        var random = new Random(11);
        int width = latent + RopeDim, qHead = Nope + RopeDim, kvHead = Nope + Value;
        // Both sequences prefill from position 0 in one flattened batch; their blocks interleave in the cache.
        int[] tokenSequence = [.. Enumerable.Repeat(0, firstLength), .. Enumerable.Repeat(1, secondLength)];
        int[] positions = [.. Enumerable.Range(0, firstLength), .. Enumerable.Range(0, secondLength)];
        int maxBlocks = (Math.Max(firstLength, secondLength) + BlockSize - 1) / BlockSize;
        int[][] blockTables = [[.. Enumerable.Range(0, maxBlocks).Select(b => 2 * maxBlocks - 1 - 2 * b)], [.. Enumerable.Range(0, maxBlocks).Select(b => 2 * b)]];
        int tokens = positions.Length;
        var kva = KernelTestDevice.RandomValues(random, tokens * width);
        var norm = KernelTestDevice.RandomValues(random, latent);
        var q = KernelTestDevice.RandomValues(random, tokens * heads * qHead);
        var (kvB, w) = device.RandomWeights(random, format, 1, heads * kvHead, latent);
        var tables = Reference.RopeTables(InverseFrequencies, secondLength + firstLength);
        var cache = device.Poisoned(2 * maxBlocks * BlockSize * width);
        var output = device.Poisoned(tokens * heads * Value);
        var layout = new PagedLayout(device.Upload(blockTables.SelectMany(b => b).ToArray()), device.Upload(tokenSequence), device.Upload(positions), BlockSize, maxBlocks);
        var rope = new RopeTables(device.Upload(tables.CosF), device.Upload(tables.SinF));
        var shape = new MlaShape(tokens, heads, Nope, RopeDim, Value, latent, 0.3f, 1e-6f);

        var write = new LatentCacheWrite(new Rows(device.Upload(kva), width), device.Upload(norm), cache, layout, rope, shape);
        if (!writeInProjection)
        {
            Kernels.WriteLatent(write);
        }
        else
        {
            var (projection, _) = device.RandomWeights(random, format, 1, 12, 20);
            Kernels.NormLinear(new Rows(device.Upload(KernelTestDevice.RandomValues(random, tokens * 20)), 20), device.Upload(KernelTestDevice.RandomValues(random, 20)),
                1e-6f, projection, new Rows(device.Poisoned(tokens * 12), 12), tokens, latent: write);
        }
        Kernels.Attention(kvB, new Rows(device.Upload(q), heads * qHead), device.Upload(positions), rope, cache, layout,
            new Rows(device.Poisoned(tokens * heads * width), width), new Rows(device.Poisoned(tokens * heads * latent), latent),
            new Rows(output, heads * Value), shape, positions.Sum(p => p + 1L));

        // Reference: each token's cache entry, then per head the absorbed query (W_UK block of kv_b, rotated q_pe), softmax
        // attention over its own sequence's earlier positions, and the expansion by the head's W_UV block.
        var keys = Enumerable.Range(0, tokens).Select(t =>
            Reference.RmsNorm(kva.AsSpan(t * width, latent), norm, 1e-6f)
                .Concat(Reference.Rotate(kva.AsSpan(t * width + latent, RopeDim), positions[t], InverseFrequencies)).ToArray()).ToArray();
        var cached = KernelTestDevice.Download(cache);
        for (int t = 0; t < tokens; t++)
        {
            int slot = blockTables[tokenSequence[t]][positions[t] / BlockSize] * BlockSize + positions[t] % BlockSize;
            Assert.True(RelativeError.L2(cached.AsSpan(slot * width, width), keys[t]) < Tolerance);
        }
        var expected = Expected(q, w, keys, positions,
            t => [.. Enumerable.Range(0, tokens).Where(s => tokenSequence[s] == tokenSequence[t] && positions[s] <= positions[t])], heads, latent);
        Assert.True(RelativeError.L2(KernelTestDevice.Download(output), expected) < Tolerance);
    }

    /// <summary>
    /// Tokens past the CPU body's first attention segments: the last sixteen positions of a 600-position sequence (three
    /// segments of 256) attended in one launch (the CPU body's wide head groups fold the segments in one pass), then the
    /// last twelve (8-head groups), the last five, two and one (the CPU body's launch in parts: a work item per segment,
    /// folded by whichever worker ends the token's last one). Each matches dense attention and has the same bits however
    /// it was launched.
    /// </summary>
    [Theory]
    [InlineData(3, 48)]
    [InlineData(10, 80)]
    public void TokensOverLongContextsFoldTheirSegmentsTheSameWayAloneOrTogether(int heads, int latent)
    {
        const int length = 600, attending = 16;
        var random = new Random(5);
        int width = latent + RopeDim, qHead = Nope + RopeDim, kvHead = Nope + Value, blocks = length / BlockSize;
        int[] everyPosition = [.. Enumerable.Range(0, length)];
        int[] blockTable = [.. Enumerable.Range(0, blocks).Select(b => (b * 7) % blocks)];
        var kva = KernelTestDevice.RandomValues(random, length * width);
        var norm = KernelTestDevice.RandomValues(random, latent);
        var (kvB, w) = device.RandomWeights(random, WeightFormat.Bf16, 1, heads * kvHead, latent);
        var tables = Reference.RopeTables(InverseFrequencies, length);
        var rope = new RopeTables(device.Upload(tables.CosF), device.Upload(tables.SinF));
        var cache = device.Poisoned(length * width);
        var tableView = device.Upload(blockTable);
        var prefill = new PagedLayout(tableView, device.Upload(new int[length]), device.Upload(everyPosition), BlockSize, blocks);
        Kernels.WriteLatent(new LatentCacheWrite(new Rows(device.Upload(kva), width), device.Upload(norm), cache, prefill, rope,
            new MlaShape(length, heads, Nope, RopeDim, Value, latent, 0.3f, 1e-6f)));
        var q = KernelTestDevice.RandomValues(random, attending * heads * qHead);

        // The last `tokens` of the attending positions, launched together.
        float[] Attend(int tokens)
        {
            int[] positions = [.. Enumerable.Range(length - tokens, tokens)];
            var layout = new PagedLayout(tableView, device.Upload(new int[tokens]), device.Upload(positions), BlockSize, blocks);
            var output = device.Poisoned(tokens * heads * Value);
            Kernels.Attention(kvB, new Rows(device.Upload(q[((attending - tokens) * heads * qHead)..]), heads * qHead), device.Upload(positions), rope, cache, layout,
                new Rows(device.Poisoned(tokens * heads * width), width), new Rows(device.Poisoned(tokens * heads * latent), latent),
                new Rows(output, heads * Value), new MlaShape(tokens, heads, Nope, RopeDim, Value, latent, 0.3f, 1e-6f), positions.Sum(p => p + 1L));
            return KernelTestDevice.Download(output);
        }

        var together = Attend(attending);
        var keys = Enumerable.Range(0, length).Select(t =>
            Reference.RmsNorm(kva.AsSpan(t * width, latent), norm, 1e-6f)
                .Concat(Reference.Rotate(kva.AsSpan(t * width + latent, RopeDim), t, InverseFrequencies)).ToArray()).ToArray();
        var expected = Expected(q, w, keys, [.. Enumerable.Range(length - attending, attending)], t => [.. Enumerable.Range(0, length - attending + t + 1)], heads, latent);
        Assert.True(RelativeError.L2(together, expected) < Tolerance);
        int row = heads * Value;
        foreach (int tokens in new[] { 12, 5, 2, 1 }) Assert.Equal(together[((attending - tokens) * row)..], Attend(tokens));
    }

    /// <summary>
    /// Dense reference of the attention's output: per token and head the absorbed query (W_UK block of kv_b, rotated
    /// q_pe), softmax attention over the cache entries in <paramref name="keys"/> that token t sees (their indices from
    /// <paramref name="visible"/>), and the expansion by the head's W_UV block.
    /// </summary>
    private static float[] Expected(float[] q, float[] w, float[][] keys, int[] positions, Func<int, int[]> visible, int heads, int latent)
    {
        int tokens = positions.Length, qHead = Nope + RopeDim, kvHead = Nope + Value;
        var expected = new float[tokens * heads * Value];
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < heads; h++)
            {
                int queryAt = (t * heads + h) * qHead;
                var query = Enumerable.Range(0, latent)
                    .Select(c => (float)Enumerable.Range(0, Nope).Sum(d => (double)q[queryAt + d] * w[(h * kvHead + d) * latent + c]))
                    .Concat(Reference.Rotate(q.AsSpan(queryAt + Nope, RopeDim), positions[t], InverseFrequencies)).ToArray();
                var seen = visible(t);
                var scores = seen.Select(s => 0.3 * Reference.Dot(query, keys[s])).ToArray();
                double max = scores.Max();
                var weights = scores.Select(v => Math.Exp(v - max)).ToArray();
                double total = weights.Sum();
                var attended = Enumerable.Range(0, latent).Select(c => seen.Select((s, i) => weights[i] / total * keys[s][c]).Sum()).ToArray();
                for (int j = 0; j < Value; j++)
                    expected[(t * heads + h) * Value + j] = (float)Enumerable.Range(0, latent).Sum(c => w[(h * kvHead + Nope + j) * latent + c] * attended[c]);
            }
        return expected;
    }
}
