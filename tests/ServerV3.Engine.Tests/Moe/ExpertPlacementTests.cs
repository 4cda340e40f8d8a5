using ServerV3.Engine.Moe;

namespace ServerV3.Engine.Tests.Moe;

/// <summary>Where experts and their copies go, and how one layer's choices are grouped by destination.</summary>
public sealed class ExpertPlacementTests
{
    [Fact]
    public void HomesAreContiguousAndCopiesGoToTheHottestExpertsOnOtherRanks()
    {
        // 16 experts over 3 ranks (5, 5, 6) with 4 copies (1, 1, 2 slots); experts 3 and 7 are hot.
        var load = Enumerable.Range(0, 16).Select(e => e switch { 3 => 900L, 7 => 500L, _ => 10L }).ToArray();
        var placement = ExpertPlacement.Create(16, 3, 4, load);

        Assert.Equal([0, 1, 2, 3, 4], placement.SlotsOf(0).Take(5));
        Assert.Equal([5, 6, 7, 8, 9], placement.SlotsOf(1).Take(5));
        Assert.Equal([10, 11, 12, 13, 14, 15], placement.SlotsOf(2).Take(6));
        Assert.Equal([6, 6, 8], Enumerable.Range(0, 3).Select(r => placement.SlotsOf(r).Count));
        for (int e = 0; e < 16; e++)
        {
            var replicas = placement.Replicas(e).ToArray();
            Assert.Equal(e, placement.SlotsOf(replicas[0].Rank)[replicas[0].Slot]);
            Assert.Equal(replicas.Length, replicas.Select(r => r.Rank).Distinct().Count());
        }
        // Each copy goes to the expert with the most tokens per copy: 3 (900 -> 450), 7 (500 -> 250), 3 (-> 300), 7.
        Assert.Equal([3, 7], placement.ReplicatedExperts);
        Assert.Equal(3, placement.Replicas(3).Length);
        Assert.Equal(3, placement.Replicas(7).Length);
    }

    [Fact]
    public void WithoutLoadTheFirstExpertsGetTheCopies()
    {
        var placement = ExpertPlacement.Create(16, 4, 2);
        Assert.Equal([0, 1], placement.ReplicatedExperts);
        Assert.Empty(ExpertPlacement.Create(16, 4, 0).ReplicatedExperts);
    }

    [Theory]
    [InlineData(16, 0, 0, "--expert-parallel must be at least 1")]
    [InlineData(16, 17, 0, "exceeds the model's 16 routed experts")]
    [InlineData(16, 2, -1, "--redundant-experts must not be negative")]
    [InlineData(16, 1, 2, "needs --expert-parallel 2 or more")]
    [InlineData(4, 2, 6, "too many")]
    public void ImpossibleSplitsAreRefusedNamingTheOption(int experts, int ranks, int redundant, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => new ExpertParallelOptions { Degree = ranks, RedundantExperts = redundant }.Validate(experts));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void APlanDealsCopiesInTurnAndStacksTheRanksResults()
    {
        // 4 experts on 2 ranks ({0, 1} and {2, 3}), one copy slot each: hot expert 0 gets a copy on rank 1, then
        // expert 2 (the first one rank 0 can take) one on rank 0.
        var placement = ExpertPlacement.Create(4, 2, 2, [100, 1, 1, 1]);
        Assert.Equal([0, 1, 2], placement.SlotsOf(0));
        Assert.Equal([2, 3, 0], placement.SlotsOf(1));
        var plan = new DispatchPlan([3, 3], experts: 4, maxTokens: 8, topK: 2);
        // Token t chose the experts at [2t, 2t + 1].
        int[] chosen = [0, 2, 0, 1, 3, 0, 2, 3];
        plan.Build(placement, chosen, tokens: 4, topK: 2);

        // Expert 0's assignments (tokens 0, 1, 2) go home, copy, home; expert 2's (tokens 0, 3) home, copy.
        Assert.Equal([0, 2, 3, 4], plan.Offsets(0));
        Assert.Equal([0, 2, 1, 3], plan.AssignedRows(0)[..4]);
        // Rank 1 receives tokens 0-3 once each; its rows are indices into what it received.
        Assert.Equal([0, 1, 2, 3], plan.SentTokens[plan.SendOffset(1)..(plan.SendOffset(1) + plan.SentRows(1))]);
        Assert.Equal([0, 1, 3, 4], plan.Offsets(1));
        Assert.Equal([0, 2, 3, 1], plan.AssignedRows(1)[..4]);
        // Rank 1's results follow rank 0's four in the primary's output.
        Assert.Equal(4, plan.OutputBase(1));
        Assert.Equal([0, 4, 7, 2, 5, 1, 3, 6], plan.ChoiceSlots[..8]);
        var perExpert = new int[4];
        plan.CountExperts(placement, perExpert);
        Assert.Equal([3, 1, 2, 2], perExpert);
    }
}
