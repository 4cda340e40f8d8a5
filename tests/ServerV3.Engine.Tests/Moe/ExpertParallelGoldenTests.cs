using ServerV3.Engine.Execution;
using ServerV3.Engine.KvCache;
using ServerV3.Engine.Moe;
using ServerV3.Engine.Runtime;
using ServerV3.Kernels.Numerics;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests.Moe;

/// <summary>
/// Expert parallelism changes where the routed experts run, never what they compute: for 1 to 4 ranks (3 splits 16
/// experts unevenly), with and without redundant copies (before and after a rebalance moves them), a step of 64
/// tokens and steps of one token give the single-rank logits (relative L2 1e-5) and the golden ones (1e-4).
/// </summary>
[Collection(GoldenModelsCollection.Name)]
public sealed class ExpertParallelGoldenTests(GoldenModels models)
{
    private const double SameAsOneRank = 1e-5;
    private const double Golden = 1e-4;
    private const int BatchTokens = 64;

    [Theory]
    [InlineData("tiny-v3", 1, 0)]
    [InlineData("tiny-v3", 2, 0)]
    [InlineData("tiny-v3", 3, 0)]
    [InlineData("tiny-v3", 4, 0)]
    [InlineData("tiny-v3", 2, 2)]
    [InlineData("tiny-v3", 3, 4)]
    [InlineData("tiny-v3", 4, 4)]
    [InlineData("tiny-v3-fp8", 1, 0)]
    [InlineData("tiny-v3-fp8", 2, 0)]
    [InlineData("tiny-v3-fp8", 3, 0)]
    [InlineData("tiny-v3-fp8", 4, 0)]
    [InlineData("tiny-v3-fp8", 2, 2)]
    [InlineData("tiny-v3-fp8", 3, 4)]
    [InlineData("tiny-v3-fp8", 4, 4)]
    public void LogitsEqualTheSingleRankModelsAndTheGoldenOnes(string name, int degree, int redundant)
    {
        var (single, golden) = models.Get(name);
        int vocab = single.Config.VocabSize;
        int[] batch = golden.Prompt(3)[..BatchTokens];
        int[] decoded = golden.Prompt(1);
        var (expectedBatch, expectedMtp) = Prefill(single, batch);
        var expectedDecode = Decode(single, decoded);

        using var owned = degree == 1 ? null : LoadedModel.Load(golden.ModelDirectory, new EngineOptions
        {
            Device = DeviceKind.Cpu,
            KvCacheMemory = KvCacheBudget.FromBytes(16L << 20),
            ExpertParallel = new ExpertParallelOptions { Degree = degree, RedundantExperts = redundant, RebalanceIntervalSteps = 0 },
        });
        var model = owned ?? single;
        Assert.Equal(degree, model.Model.Experts.Degree);
        for (int pass = 0; pass < 2; pass++)
        {
            string what = $"{name} EP {degree} + {redundant} redundant, pass {pass}";
            var (logits, mtp) = Prefill(model, batch);
            AssertClose(logits, expectedBatch, SameAsOneRank, $"{what}: {BatchTokens}-token step against one rank");
            AssertClose(mtp, expectedMtp, SameAsOneRank, $"{what}: {BatchTokens}-token step MTP against one rank");
            AssertClose(logits, golden.Floats("p3.logits")[..(BatchTokens * vocab)], Golden, $"{what}: {BatchTokens}-token step against golden");
            AssertClose(mtp, golden.Floats("p3.mtp_logits")[..((BatchTokens - 1) * vocab)], Golden, $"{what}: {BatchTokens}-token step MTP against golden");
            var decode = Decode(model, decoded);
            AssertClose(decode, expectedDecode, SameAsOneRank, $"{what}: one-token steps against one rank");
            AssertClose(decode, golden.Floats("p1.logits"), Golden, $"{what}: one-token steps against golden");
            // The second pass runs with the copies placed from the first pass's load.
            model.Model.Experts.Rebalance();
        }
    }

    /// <summary>One forward over all the tokens (and one MTP forward).</summary>
    private static (float[] Logits, float[] Mtp) Prefill(LoadedModel model, int[] tokens)
    {
        using var session = new SequenceSession(model, tokens.Length);
        return session.Append(tokens, withMtp: true);
    }

    /// <summary>One forward per token.</summary>
    private static float[] Decode(LoadedModel model, int[] tokens)
    {
        using var session = new SequenceSession(model, tokens.Length);
        return tokens.SelectMany(t => session.Append([t], withMtp: false).Logits).ToArray();
    }

    private static void AssertClose(float[] actual, float[] expected, double tolerance, string what)
    {
        double error = RelativeError.L2(actual, expected);
        Assert.True(error < tolerance, $"{what}: relative L2 error {error:E2} exceeds {tolerance:E0}");
    }
}
