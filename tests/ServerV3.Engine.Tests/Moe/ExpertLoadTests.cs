using ServerV3.Engine.Execution;
using ServerV3.Engine.KvCache;
using ServerV3.Engine.Model;
using ServerV3.Engine.Moe;
using ServerV3.Engine.Runtime;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests.Moe;

/// <summary>The load statistics count exactly the assignments computed, and redundant copies of hot experts relieve the busiest rank.</summary>
public sealed class ExpertLoadTests
{
    [Fact]
    public void TheLoadMetricIsTheNumberOfAssignmentsComputed()
    {
        var golden = new GoldenData("tiny-v3");
        using var model = Load(golden.ModelDirectory, degree: 3, redundant: 2, windowSteps: 100);
        var observer = new RoutingCounter();
        int[] prompt = golden.Prompt(2);
        using var session = new SequenceSession(model, prompt.Length + 4);
        session.Append(prompt, withMtp: true, observer);
        model.Model.Experts.Rebalance();
        foreach (int token in new[] { 5, 6, 7, 8 }) session.Append([token], withMtp: false, observer);

        var snapshot = model.Model.Experts.LoadSnapshot();
        int k = model.Config.NumExpertsPerTok;
        var mainTokens = prompt.Length + 4;
        var mtpTokens = prompt.Length - 1;
        Assert.Equal(1 + 4, snapshot.WindowSteps);
        Assert.Equal([1, 2, 3], snapshot.Layers.Select(l => l.Layer));
        foreach (var layer in snapshot.Layers)
        {
            long[] observed = observer.PerExpert(layer.Layer, model.Config.NRoutedExperts);
            long assignments = (layer.Layer == model.Model.MtpCacheLayer ? mtpTokens : mainTokens) * k;
            Assert.Equal(observed, layer.TokensPerExpert);
            Assert.Equal(observed, layer.TotalTokensPerExpert);
            Assert.Equal(assignments, layer.TokensPerExpert.Sum());
            Assert.Equal(assignments, layer.TokensPerRank.Sum());
            Assert.Equal(3, layer.TokensPerRank.Count);
        }
        Assert.Equal(snapshot.Layers.Sum(l => l.TokensPerRank.Sum()), snapshot.TotalAssignments);
    }

    [Fact]
    public void RedundantCopiesOfHotExpertsLowerTheBusiestRanksLoad()
    {
        // Four ranks of four experts each; every token of every layer goes to experts 12-15, all homed on rank 3.
        using var checkpoint = new SkewedCheckpoint("tiny-v3", [12, 13, 14, 15]);
        using var model = Load(checkpoint.Directory, degree: 4, redundant: 4, windowSteps: 1);
        int[] prompt = new GoldenData("tiny-v3").Prompt(3)[..64];
        float[] Step()
        {
            using var session = new SequenceSession(model, prompt.Length);
            return session.Append(prompt, withMtp: false).Logits;
        }

        var skewedLogits = Step();
        var skewed = model.Model.Experts.LoadSnapshot();
        int rewritten = model.Model.Experts.Rebalance();
        var balancedLogits = Step();
        var balanced = model.Model.Experts.LoadSnapshot();

        long assignments = 2 * prompt.Length * model.Config.NumExpertsPerTok;
        Assert.Equal(new long[] { 0, 0, 0, assignments }, skewed.TokensPerRank);
        Assert.True(rewritten > 0);
        Assert.All(balanced.Layers.Where(l => l.Layer != model.Model.MtpCacheLayer), l => Assert.Subset(l.ReplicatedExperts.ToHashSet(), new HashSet<int> { 12, 13, 14 }));
        Assert.Equal(assignments, balanced.TokensPerRank.Sum());
        // Three of the four hot experts got a copy on another rank and give it half their tokens: 4 units -> 2.5.
        Assert.Equal(assignments * 5 / 8, balanced.TokensPerRank.Max());
        Assert.True(balanced.RankImbalance < skewed.RankImbalance);
        Assert.Equal(skewedLogits, balancedLogits);
    }

    [Fact]
    public void TheCopiesFollowTheLoadEveryIntervalOnTheirOwn()
    {
        using var checkpoint = new SkewedCheckpoint("tiny-v3", [12, 13, 14, 15]);
        using var model = Load(checkpoint.Directory, degree: 4, redundant: 4, windowSteps: 2, rebalanceInterval: 2);
        int[] prompt = new GoldenData("tiny-v3").Prompt(3)[..16];
        using var session = new SequenceSession(model, prompt.Length);
        session.Append(prompt[..8], withMtp: false);
        session.Append(prompt[8..12], withMtp: false);
        Assert.DoesNotContain(12, model.Model.Experts.Placement(1).ReplicatedExperts);
        // The third step starts with a rebalance from the first two.
        session.Append(prompt[12..], withMtp: false);
        Assert.Subset(model.Model.Experts.Placement(1).ReplicatedExperts.ToHashSet(), new HashSet<int> { 12, 13, 14 });
    }

    private static LoadedModel Load(string directory, int degree, int redundant, int windowSteps, int rebalanceInterval = 0) => LoadedModel.Load(directory, new EngineOptions
    {
        Device = DeviceKind.Cpu,
        KvCacheMemory = KvCacheBudget.FromBytes(16L << 20),
        ExpertParallel = new ExpertParallelOptions
        {
            Degree = degree, RedundantExperts = redundant, LoadWindowSteps = windowSteps, RebalanceIntervalSteps = rebalanceInterval,
        },
    });

    /// <summary>Counts the routing choices every MoE layer reports to the observer.</summary>
    private sealed class RoutingCounter : IActivationObserver
    {
        private readonly Dictionary<int, List<float>> chosen = [];

        public void Observe(string name, int rows, int cols, float[] values)
        {
            var parts = name.Split('.');
            if (parts is not ["routing", var layer, "experts"]) return;
            int index = int.Parse(layer, System.Globalization.CultureInfo.InvariantCulture);
            if (!chosen.TryGetValue(index, out var list)) chosen[index] = list = [];
            list.AddRange(values);
        }

        public long[] PerExpert(int layer, int experts)
        {
            var counts = new long[experts];
            foreach (float e in chosen[layer]) counts[(int)e]++;
            return counts;
        }
    }
}
