namespace ServerV3.Engine.Moe;

/// <summary>
/// One MoE layer's routed-expert load: (token, expert) assignments computed per expert and per EP rank over the
/// window, per expert since start, and which experts have redundant copies now.
/// </summary>
/// <param name="Layer">The model layer (num_hidden_layers is the MTP layer).</param>
public sealed record LayerExpertLoad(
    int Layer,
    IReadOnlyList<long> TokensPerExpert,
    IReadOnlyList<long> TokensPerRank,
    IReadOnlyList<long> TotalTokensPerExpert,
    IReadOnlyList<int> ReplicatedExperts)
{
    /// <summary>Most loaded expert over the mean (1 when balanced or idle).</summary>
    public double ExpertImbalance => Imbalance(TokensPerExpert);

    /// <summary>Most loaded rank over the mean (1 when balanced or idle).</summary>
    public double RankImbalance => Imbalance(TokensPerRank);

    internal static double Imbalance(IReadOnlyList<long> load)
    {
        long total = load.Sum();
        return total == 0 ? 1 : load.Max() * (double)load.Count / total;
    }
}
