namespace ServerV3.Engine.Moe;

/// <summary>
/// Tokens computed per expert and per rank, per MoE layer and step, kept for the last N steps (a ring of per-step
/// counts with running window sums) plus totals since start. Written by the engine thread, read from any thread.
/// </summary>
internal sealed class ExpertLoadStatistics
{
    private readonly IReadOnlyList<int> layers;
    private readonly int experts;
    private readonly int ranks;
    private readonly int[][] expertSteps;
    private readonly int[][] rankSteps;
    private readonly long[] expertWindow;
    private readonly long[] rankWindow;
    private readonly long[] expertTotals;
    private readonly Lock sync = new();
    private long steps;

    /// <param name="layers">The model layer of each MoE layer, in the order callers index them.</param>
    public ExpertLoadStatistics(IReadOnlyList<int> layers, int experts, int ranks, int windowSteps)
    {
        this.layers = layers;
        this.experts = experts;
        this.ranks = ranks;
        expertSteps = Enumerable.Range(0, windowSteps).Select(_ => new int[layers.Count * experts]).ToArray();
        rankSteps = Enumerable.Range(0, windowSteps).Select(_ => new int[layers.Count * ranks]).ToArray();
        expertWindow = new long[layers.Count * experts];
        rankWindow = new long[layers.Count * ranks];
        expertTotals = new long[layers.Count * experts];
    }

    public long Steps
    {
        get
        {
            lock (sync) return steps;
        }
    }

    /// <summary>Starts a step: the oldest step leaves the window.</summary>
    public void BeginStep()
    {
        lock (sync) StartStep();
    }

    /// <summary>Adds one MoE layer's computed assignments to the current step.</summary>
    public void Record(int layerIndex, ReadOnlySpan<int> perExpert, ReadOnlySpan<int> perRank)
    {
        lock (sync)
        {
            if (steps == 0) StartStep();
            int slot = Slot;
            for (int e = 0; e < experts; e++)
            {
                int i = layerIndex * experts + e;
                expertSteps[slot][i] += perExpert[e];
                expertWindow[i] += perExpert[e];
                expertTotals[i] += perExpert[e];
            }
            for (int r = 0; r < ranks; r++)
            {
                rankSteps[slot][layerIndex * ranks + r] += perRank[r];
                rankWindow[layerIndex * ranks + r] += perRank[r];
            }
        }
    }

    /// <summary>Tokens per expert of one MoE layer over the window.</summary>
    public long[] WindowLoad(int layerIndex)
    {
        lock (sync) return expertWindow.AsSpan(layerIndex * experts, experts).ToArray();
    }

    /// <param name="replicated">The experts with copies in each MoE layer now.</param>
    public ExpertLoadSnapshot Snapshot(Func<int, IReadOnlyList<int>> replicated)
    {
        lock (sync)
        {
            var loads = layers.Select((layer, i) => new LayerExpertLoad(
                layer,
                expertWindow.AsSpan(i * experts, experts).ToArray(),
                rankWindow.AsSpan(i * ranks, ranks).ToArray(),
                expertTotals.AsSpan(i * experts, experts).ToArray(),
                replicated(i))).ToArray();
            return new ExpertLoadSnapshot((int)Math.Min(steps, expertSteps.Length), steps, ranks, loads);
        }
    }

    private void StartStep()
    {
        steps++;
        int slot = Slot;
        if (steps > expertSteps.Length)
        {
            Subtract(expertWindow, expertSteps[slot]);
            Subtract(rankWindow, rankSteps[slot]);
        }
        Array.Clear(expertSteps[slot]);
        Array.Clear(rankSteps[slot]);
    }

    private int Slot => (int)((steps - 1) % expertSteps.Length);

    private static void Subtract(long[] window, int[] step)
    {
        for (int i = 0; i < window.Length; i++) window[i] -= step[i];
    }
}
