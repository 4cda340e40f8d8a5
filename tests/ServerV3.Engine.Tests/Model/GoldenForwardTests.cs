using ServerV3.Engine.Execution;
using ServerV3.Engine.Model;
using ServerV3.Kernels.Numerics;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests.Model;

/// <summary>The forward pass against the float64 reference outputs in tests/golden (relative L2 error 1e-4).</summary>
[Collection(GoldenModelsCollection.Name)]
public sealed class GoldenForwardTests(GoldenModels models)
{
    private const double Tolerance = 1e-4;

    /// <param name="expandedFrom">1: every prompt attended in the expanded form (keys and values per head), the main
    /// layers' and the MTP layer's; null: the default, under which these prompts (1-100 tokens) are attended absorbed.</param>
    /// <param name="expandedBytes">1: a workspace of the smallest segment (64 positions), so the 100-token prompt's
    /// context arrives in two segments.</param>
    [Theory]
    [InlineData("tiny-v3", null, null)]
    [InlineData("tiny-v3-fp8", null, null)]
    [InlineData("tiny-v3", 1, null)]
    [InlineData("tiny-v3-fp8", 1, null)]
    [InlineData("tiny-v3", 1, 1L)]
    public void LogitsAndMtpLogitsMatchAtEveryPosition(string name, int? expandedFrom, long? expandedBytes)
    {
        var defaults = new ModelShapeOptions();
        var (model, golden) = models.Get(name, defaults with
        {
            ExpandedAttentionMinTokens = expandedFrom ?? defaults.ExpandedAttentionMinTokens,
            ExpandedAttentionBytes = expandedBytes ?? defaults.ExpandedAttentionBytes,
        });
        for (int p = 0; p < golden.NumPrompts; p++)
        {
            int[] prompt = golden.Prompt(p);
            using var session = new SequenceSession(model, prompt.Length);
            var (logits, mtp) = session.Append(prompt, withMtp: true);
            AssertClose(logits, golden.Floats($"p{p}.logits"), $"{name} p{p} logits");
            AssertClose(mtp, golden.Floats($"p{p}.mtp_logits"), $"{name} p{p} mtp_logits");
        }
    }

    /// <summary>A context expanded 64 positions at a time gives the bits of one expanded at once.</summary>
    [Fact]
    public void ExpandedAttentionInSegmentsGivesTheSameBits()
    {
        var (whole, golden) = models.Get("tiny-v3", new ModelShapeOptions { ExpandedAttentionMinTokens = 1 });
        var (segmented, _) = models.Get("tiny-v3", new ModelShapeOptions { ExpandedAttentionMinTokens = 1, ExpandedAttentionBytes = 1 });
        int[] prompt = golden.Prompt(3);
        using var a = new SequenceSession(whole, prompt.Length);
        using var b = new SequenceSession(segmented, prompt.Length);
        var (logits, mtp) = a.Append(prompt, withMtp: true);
        var (segmentedLogits, segmentedMtp) = b.Append(prompt, withMtp: true);
        Assert.Equal(logits, segmentedLogits);
        Assert.Equal(mtp, segmentedMtp);
    }

    /// <param name="stepTokens">16: the 100-token prompt is prefilled in 16-token steps, with no logits before the
    /// last; null: the default step (one chunk).</param>
    [Theory]
    [InlineData("tiny-v3", 0, null)]
    [InlineData("tiny-v3-fp8", 0, null)]
    [InlineData("tiny-v3", 3, 16)]
    public void PrefillGivesTheLastPositionsLogitsBitForBit(string name, int promptIndex, int? stepTokens)
    {
        var (model, golden) = models.Get(name, stepTokens is { } step ? new ModelShapeOptions { MaxTokensPerStep = step, MaxLogitRows = step } : null);
        int[] prompt = golden.Prompt(promptIndex);
        int vocab = model.Config.VocabSize;
        using var every = new SequenceSession(model, prompt.Length);
        using var last = new SequenceSession(model, prompt.Length);

        float[] all = every.Append(prompt, withMtp: false).Logits;

        Assert.Equal(all.AsSpan(all.Length - vocab).ToArray(), last.Prefill(prompt));
        Assert.Equal(prompt, last.Tokens);
    }

    [Theory]
    [InlineData("tiny-v3")]
    [InlineData("tiny-v3-fp8")]
    public void GreedyContinuationsAreIdentical(string name)
    {
        var (model, golden) = models.Get(name);
        for (int p = 0; p < golden.NumPrompts; p++)
        {
            int[] prompt = golden.Prompt(p);
            int[] expected = golden.Ids($"p{p}.greedy");
            using var session = new SequenceSession(model, prompt.Length + expected.Length);
            var (logits, _) = session.Append(prompt, withMtp: false);
            int vocab = model.Config.VocabSize;
            int[] greedy = session.Greedy(logits.AsSpan(logits.Length - vocab), expected.Length);
            Assert.Equal(expected, greedy);
        }
    }

    [Theory]
    [InlineData("tiny-v3")]
    [InlineData("tiny-v3-fp8")]
    public void EveryLayerMatchesForTheFirstPrompts(string name)
    {
        var (model, golden) = models.Get(name);
        foreach (int p in new[] { 0, 1 })
        {
            int[] prompt = golden.Prompt(p);
            var observer = new RecordingObserver();
            using var session = new SequenceSession(model, prompt.Length);
            session.Append(prompt, withMtp: true, observer);
            AssertClose(observer.Values["embed"], golden.Floats($"p{p}.embed"), $"{name} p{p} embed");
            for (int layer = 0; layer < model.Config.NumHiddenLayers; layer++)
                AssertClose(observer.Values[$"hidden.{layer}"], golden.Floats($"p{p}.hidden.{layer}"), $"{name} p{p} layer {layer}");
            AssertClose(observer.Values["final_hidden"], golden.Floats($"p{p}.final_hidden"), $"{name} p{p} final_hidden");
            for (int layer = model.Config.FirstKDenseReplace; layer < model.Config.NumHiddenLayers; layer++)
            {
                Assert.Equal(golden.Ids($"p{p}.routing.{layer}.experts"), observer.Values[$"routing.{layer}.experts"].Select(e => (int)e));
                AssertClose(observer.Values[$"routing.{layer}.weights"], golden.Floats($"p{p}.routing.{layer}.weights"), $"{name} p{p} routing {layer}");
            }
            if (prompt.Length > 1)
            {
                AssertClose(observer.Values["mtp.eh_proj"], golden.Floats($"p{p}.mtp.eh_proj"), $"{name} p{p} mtp.eh_proj");
                AssertClose(observer.Values["mtp.hidden"], golden.Floats($"p{p}.mtp.hidden"), $"{name} p{p} mtp.hidden");
            }
        }
    }

    private static void AssertClose(float[] actual, float[] expected, string what)
    {
        double error = RelativeError.L2(actual, expected);
        Assert.True(error < Tolerance, $"{what}: relative L2 error {error:E2} exceeds {Tolerance:E0}");
    }

    private sealed class RecordingObserver : IActivationObserver
    {
        public Dictionary<string, float[]> Values { get; } = [];

        public void Observe(string name, int rows, int cols, float[] values) => Values[name] = values;
    }
}
