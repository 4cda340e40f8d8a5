namespace ServerV3.Engine.Moe;

/// <summary>How the routed experts are spread over accelerators (expert parallelism) and balanced (EPLB).</summary>
public sealed record ExpertParallelOptions
{
    /// <summary>EP ranks: the routed experts of every MoE layer are split over this many accelerators (1: all on the primary).</summary>
    public int Degree { get; init; } = 1;

    /// <summary>Extra copies of the most loaded experts, spread over the ranks (needs two ranks or more).</summary>
    public int RedundantExperts { get; init; }

    /// <summary>Engine steps the load statistics keep (a rolling window).</summary>
    public int LoadWindowSteps { get; init; } = 128;

    /// <summary>With redundant experts, re-place them from the load statistics every this many steps; 0: only when asked.</summary>
    public int RebalanceIntervalSteps { get; init; } = 128;

    /// <summary>Throws <see cref="ArgumentException"/> (naming the option) when a model with this many routed experts cannot be split so.</summary>
    public void Validate(int routedExperts)
    {
        if (LoadWindowSteps < 1) throw new ArgumentException($"the expert load window must be at least one step, got {LoadWindowSteps}");
        if (RebalanceIntervalSteps < 0) throw new ArgumentException($"the rebalance interval must not be negative, got {RebalanceIntervalSteps}");
        ExpertPlacement.Validate(routedExperts, Degree, RedundantExperts);
    }
}
