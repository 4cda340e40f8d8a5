namespace ServerV3.Engine.Moe;

/// <summary>
/// Routed-expert load of every MoE layer (the MTP layer included) over the last <see cref="WindowSteps"/> engine
/// steps: a read-only copy, safe to keep and read on any thread. The counts are the (token, expert) assignments the
/// ranks computed (an expert's copies summed), so each layer's total is its tokens times num_experts_per_tok.
/// </summary>
/// <param name="WindowSteps">Steps the window covers (at most the configured window).</param>
/// <param name="TotalSteps">Steps since the model was loaded.</param>
/// <param name="Ranks">EP ranks.</param>
public sealed record ExpertLoadSnapshot(int WindowSteps, long TotalSteps, int Ranks, IReadOnlyList<LayerExpertLoad> Layers)
{
    /// <summary>Assignments per rank over the window, all layers together.</summary>
    public IReadOnlyList<long> TokensPerRank =>
        Enumerable.Range(0, Ranks).Select(r => Layers.Sum(l => l.TokensPerRank[r])).ToArray();

    /// <summary>Most loaded rank over the mean, all layers together (1 when balanced or idle).</summary>
    public double RankImbalance => LayerExpertLoad.Imbalance(TokensPerRank);

    /// <summary>Assignments since start, all layers together.</summary>
    public long TotalAssignments => Layers.Sum(l => l.TotalTokensPerExpert.Sum());
}
