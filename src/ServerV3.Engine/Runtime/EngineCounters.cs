using ServerV3.Engine.Speculative;

namespace ServerV3.Engine.Runtime;

/// <summary>A snapshot of the engine's state, published by the engine thread after every step.</summary>
public sealed record EngineCounters
{
    public int NumRunning { get; init; }
    public int NumWaiting { get; init; }
    public int NumFreeBlocks { get; init; }
    public int NumBlocks { get; init; }
    public long PrefixQueriedTokens { get; init; }
    public long PrefixHitTokens { get; init; }
    public long NumPreemptions { get; init; }
    public long Steps { get; init; }
    public long PromptTokensComputed { get; init; }
    public long GeneratedTokens { get; init; }
    public SpeculationStats Speculation { get; init; } = new([], [], 0);
    public double KvCacheUsage => NumBlocks == 0 ? 0 : 1 - (double)NumFreeBlocks / NumBlocks;
}
