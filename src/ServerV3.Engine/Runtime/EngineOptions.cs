using ServerV3.Engine.KvCache;
using ServerV3.Engine.Model;
using ServerV3.Engine.Moe;

namespace ServerV3.Engine.Runtime;

/// <summary>Options of every command that runs the engine.</summary>
public sealed record EngineOptions
{
    public DeviceKind Device { get; init; } = DeviceKind.Auto;

    /// <summary>CPU accelerator worker threads; 0 means one per core.</summary>
    public int CpuThreads { get; init; }

    /// <summary>Tokens per latent-cache block.</summary>
    public int BlockSize { get; init; } = 64;

    /// <summary>Memory of the latent cache (all layers, MTP included).</summary>
    public KvCacheBudget KvCacheMemory { get; init; } = KvCacheBudget.FromBytes(256L << 20);

    public ModelShapeOptions Shape { get; init; } = new();

    /// <summary>How the routed experts are spread over accelerators and balanced.</summary>
    public ExpertParallelOptions ExpertParallel { get; init; } = new();
}
