namespace ServerV3.Engine.Scheduling;

public sealed record SchedulerOptions
{
    /// <summary>Token budget of one step (prefill chunks plus decode tokens): --max-batch-tokens.</summary>
    public int MaxBatchTokens { get; init; } = 512;

    /// <summary>Most sequences running at once: --max-running.</summary>
    public int MaxRunning { get; init; } = 64;
}
