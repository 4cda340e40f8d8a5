using ServerV3.Engine.Moe;
using ServerV3.Engine.Tests.Runtime;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests.Moe;

/// <summary>Continuous batching on expert-parallel ranks, with MTP speculation and copies re-placed every few steps, still gives the golden continuations.</summary>
public sealed class ExpertParallelEngineTests
{
    [Fact]
    public async Task GoldenGreedyContinuationsSurviveRebalancingBetweenSteps()
    {
        var golden = new GoldenData("tiny-v3");
        var expertParallel = new ExpertParallelOptions { Degree = 3, RedundantExperts = 4, LoadWindowSteps = 4, RebalanceIntervalSteps = 3 };
        using var harness = new EngineHarness(speculativeTokens: 1, expertParallel: expertParallel);
        var outputs = await Task.WhenAll(Enumerable.Range(0, golden.NumPrompts).Select(p => harness.TokensAsync(golden.Prompt(p), EngineHarness.Greedy(16))));
        for (int p = 0; p < outputs.Length; p++) Assert.Equal(golden.Ids($"p{p}.greedy"), outputs[p]);
        // The copies moved from where they start (the first experts) to where the load was.
        var initial = ExpertPlacement.Create(16, 3, 4).ReplicatedExperts;
        Assert.NotEqual(initial, harness.Model.Model.Experts.Placement(1).ReplicatedExperts);
    }
}
