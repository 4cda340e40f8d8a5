using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Numerics;
using ServerV3.Kernels.Rope;

namespace ServerV3.Kernels.Tests;

/// <summary>
/// MLA in the expanded form (per-head keys and values from kv_b_proj): one sequence's tokens against dense causal
/// attention, each token alone, and the context in segments.
/// </summary>
public abstract class ExpandedAttentionKernelTests(KernelTestDevice device)
{
    protected abstract KernelSet Kernels { get; }

    private protected KernelTestDevice Device => device;

    [Collection(KernelDeviceCollection.Name)]
    public sealed class CpuBodies(KernelTestDevice device) : ExpandedAttentionKernelTests(device)
    {
        protected override KernelSet Kernels => Device.Cpu;
    }

    [Collection(KernelDeviceCollection.Name)]
    public sealed class PortableBodies(KernelTestDevice device) : ExpandedAttentionKernelTests(device)
    {
        protected override KernelSet Kernels => Device.Portable;
    }

    [Collection(KernelDeviceCollection.Name)]
    public sealed class GpuShapedPortableBodies(KernelTestDevice device) : ExpandedAttentionKernelTests(device)
    {
        protected override KernelSet Kernels => Device.GpuShaped;
    }

    private const double Tolerance = 1e-5;
    private const int LatentColumns = 10;

    /// <param name="nope">8 with rope 4 and value 6: scalar columns only; 48 + 16 (query 64) and value 80: the SIMD
    /// scores' 32-column chunks and the four-token accumulation's 64-column and 16-column parts.</param>
    /// <param name="start">Position of the first token; 0 is a first prefill chunk, later ones see earlier positions.</param>
    /// <param name="tokens">70: two whole 32-token tiles of the CPU body and a partial one; 37 and 5: pairs and a single token.</param>
    [Theory]
    [InlineData(3, 8, 4, 6, 0, 5)]
    [InlineData(5, 48, 16, 80, 0, 70)]
    [InlineData(2, 48, 16, 80, 45, 37)]
    [InlineData(4, 32, 16, 32, 130, 20)]
    public void MatchesDenseCausalAttentionAndEachTokenAlone(int heads, int nope, int rope, int value, int start, int tokens)
    {
        var random = new Random(5);
        int qHead = nope + rope, kvHead = nope + value, context = start + tokens, width = LatentColumns + rope;
        var inverseFrequencies = Enumerable.Range(0, rope / 2).Select(i => Math.Pow(10000, -2.0 * i / rope)).ToArray();
        var tables = Reference.RopeTables(inverseFrequencies, context);
        var ropeTables = new RopeTables(device.Upload(tables.CosF), device.Upload(tables.SinF));
        int[] positions = [.. Enumerable.Range(start, tokens)];
        var q = KernelTestDevice.RandomValues(random, tokens * heads * qHead);
        // Keys and values with a row stride wider than they are, and k_pe at the end of latent-cache-shaped rows.
        int kvStride = heads * kvHead + 3;
        var kv = KernelTestDevice.RandomValues(random, context * kvStride);
        var cacheRows = KernelTestDevice.RandomValues(random, context * width);
        var kvView = new Rows(device.Upload(kv), kvStride);
        var keyRope = new Rows(device.Upload(cacheRows), width, LatentColumns);
        var qView = new Rows(device.Upload(q), heads * qHead);
        var shape = new MlaShape(tokens, heads, nope, rope, value, 0, 0.3f, 1e-6f);

        var together = Run(qView, device.Upload(positions), ropeTables, kvView, keyRope, shape, context);

        var expected = new float[tokens * heads * value];
        for (int t = 0; t < tokens; t++)
            for (int h = 0; h < heads; h++)
            {
                int at = (t * heads + h) * qHead;
                var query = q.AsSpan(at, nope).ToArray().Concat(Reference.Rotate(q.AsSpan(at + nope, rope), positions[t], inverseFrequencies)).ToArray();
                var scores = Enumerable.Range(0, positions[t] + 1).Select(j =>
                    0.3 * Reference.Dot(query, kv.AsSpan(j * kvStride + h * kvHead, nope).ToArray().Concat(cacheRows.AsSpan(j * width + LatentColumns, rope).ToArray()).ToArray()))
                    .ToArray();
                double max = scores.Max();
                var weights = scores.Select(s => Math.Exp(s - max)).ToArray();
                double total = weights.Sum();
                for (int c = 0; c < value; c++)
                    expected[(t * heads + h) * value + c] = (float)weights.Select((w, j) => w / total * kv[j * kvStride + h * kvHead + nope + c]).Sum();
            }
        Assert.True(RelativeError.L2(together, expected) < Tolerance, $"relative error {RelativeError.L2(together, expected)}");

        // A token's arithmetic does not depend on the others in its launch (the engine's chunks of a sequence vary).
        var positionsView = device.Upload(positions);
        for (int t = 0; t < tokens; t++)
        {
            var alone = Run(new Rows(qView.Data, qView.Stride, t * qView.Stride), device.Upload(new[] { positions[t] }), ropeTables, kvView, keyRope,
                shape with { Tokens = 1 }, positions[t] + 1);
            Assert.Equal(together.AsSpan(t * heads * value, heads * value).ToArray(), alone);
        }

        // Nor on the context arriving in segments (a workspace smaller than the context): 64 positions at a time.
        var output = device.Poisoned(tokens * heads * value);
        var state = new Rows(device.Poisoned(tokens * heads * 2), 2);
        for (int from = 0; from < context; from += 64)
        {
            int length = Math.Min(64, context - from);
            var segment = new ContextSegment(from, length, from == 0 ? 1 : 0, from + length == context ? 1 : 0);
            Kernels.ExpandedAttention(qView, positionsView, ropeTables, new Rows(kvView.Data, kvStride, from * kvStride),
                new Rows(keyRope.Data, width, from * width + LatentColumns), Scratch(shape), state, new Rows(output, heads * value), shape, segment,
                positions.Sum(p => Math.Clamp(p + 1L - from, 0, length)));
        }
        Assert.Equal(together, KernelTestDevice.Download(output));
    }

    private float[] Run(Rows q, ILGPU.ArrayView<int> positions, RopeTables rope, Rows kv, Rows keyRope, MlaShape shape, int context)
    {
        var output = device.Poisoned(shape.Tokens * shape.Heads * shape.Value);
        Kernels.ExpandedAttention(q, positions, rope, kv, keyRope, Scratch(shape), new Rows(device.Poisoned(shape.Tokens * shape.Heads * 2), 2),
            new Rows(output, shape.Heads * shape.Value), shape, ContextSegment.Whole(context), positions.Length * (long)context);
        return KernelTestDevice.Download(output);
    }

    /// <summary>The portable body's query scratch.</summary>
    private Rows Scratch(MlaShape shape) => new(device.Poisoned(shape.Tokens * shape.Heads * (shape.Nope + shape.Rope)), shape.Nope + shape.Rope);
}
