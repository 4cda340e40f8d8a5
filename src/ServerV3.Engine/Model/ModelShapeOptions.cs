namespace ServerV3.Engine.Model;

/// <summary>Capacities that size the per-step workspace, allocated once at start-up.</summary>
public sealed record ModelShapeOptions
{
    /// <summary>Most tokens in one forward (prefill chunks plus decode tokens).</summary>
    public int MaxTokensPerStep { get; init; } = 512;

    /// <summary>Most sequences in one forward.</summary>
    public int MaxSequences { get; init; } = 64;

    /// <summary>Most rows that get logits in one forward.</summary>
    public int MaxLogitRows { get; init; } = 256;

    /// <summary>The workspace a continuous-batching engine with these limits needs (each running sequence may verify its drafts).</summary>
    public static ModelShapeOptions ForEngine(int maxBatchTokens, int maxRunning, int speculativeTokens) => new()
    {
        MaxTokensPerStep = maxBatchTokens,
        MaxSequences = maxRunning,
        MaxLogitRows = Math.Max(maxBatchTokens, maxRunning * (1 + speculativeTokens)),
    };
}
