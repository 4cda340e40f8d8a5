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

    /// <summary>
    /// Fewest consecutive tokens of one sequence in a step (a prefill chunk) that are attended in the expanded form:
    /// keys and values per head from kv_b_proj over the whole context, as vLLM and SGLang prefill, instead of the
    /// absorbed form decode uses. Per token and head a score then costs nope + rope multiply-adds instead of
    /// latent + rope and the weighted sum v instead of latent, for one kv_b_proj product per context position per
    /// chunk; the choice depends on the sequence's own tokens only, never on what shares its step. bench-small, a
    /// 2048-token prompt, two interleaved rounds: in 128-token chunks both forms prefill at 244-293 tokens/s, in 256-token
    /// chunks the expanded one at 333/388 against 282/306.
    /// </summary>
    public int ExpandedAttentionMinTokens { get; init; } = 128;

    /// <summary>
    /// Workspace for the expanded form's context (cache rows and per-head keys and values); a longer context is expanded
    /// and attended a segment at a time, with the same result.
    /// </summary>
    public long ExpandedAttentionBytes { get; init; } = 128L << 20;

    /// <summary>The workspace a continuous-batching engine with these limits needs (each running sequence may verify its drafts).</summary>
    public static ModelShapeOptions ForEngine(int maxBatchTokens, int maxRunning, int speculativeTokens) => new()
    {
        MaxTokensPerStep = maxBatchTokens,
        MaxSequences = maxRunning,
        MaxLogitRows = Math.Max(maxBatchTokens, maxRunning * (1 + speculativeTokens)),
    };
}
