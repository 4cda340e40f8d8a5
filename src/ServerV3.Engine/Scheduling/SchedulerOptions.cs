namespace ServerV3.Engine.Scheduling;

public sealed record SchedulerOptions
{
    /// <summary>Token budget of one step (prefill chunks plus decode tokens): --max-batch-tokens.</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>Most sequences running at once: --max-running.</summary>
    public int MaxRunning { get; init; } = 64;

    /// <summary>MTP draft tokens proposed per step and verified in the next one: --speculative-tokens (0: off).</summary>
    public int SpeculativeTokens { get; init; }

    /// <summary>The model's context length; no block is allocated past it (the engine sets it).</summary>
    public int MaxModelLength { get; init; } = int.MaxValue;
}
