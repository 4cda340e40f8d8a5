using ServerV3.Engine.Runtime;

namespace ServerV3.Server.Hosting;

/// <summary>
/// Everything `serverv3 serve` is configured with. Sources, last wins: appsettings.json, SERVERV3_* environment
/// variables (e.g. SERVERV3_PORT), then the command line.
/// </summary>
public sealed record ServerOptions
{
    /// <summary>Model directory (Hugging Face format); empty serves the built-in demo model.</summary>
    public string Model { get; init; } = "";
    public string Host { get; init; } = "0.0.0.0";
    public int Port { get; init; } = 8000;
    /// <summary>The model id clients send and see; defaults to the model directory's name.</summary>
    public string ServedModelName { get; init; } = "";
    public DeviceKind Device { get; init; } = DeviceKind.Auto;
    public int CpuThreads { get; init; }
    /// <summary>Bytes (268435456, 256MiB, 2GiB) or a fraction of the free memory (0.9).</summary>
    public string KvCacheMemory { get; init; } = "256MiB";
    public int BlockSize { get; init; } = 64;
    public int MaxBatchTokens { get; init; } = 512;
    public int MaxRunning { get; init; } = 64;
    /// <summary>Null: 1 when the model has an MTP layer.</summary>
    public int? SpeculativeTokens { get; init; }
    /// <summary>Accelerators the routed experts are split over (EP ranks).</summary>
    public int ExpertParallel { get; init; } = 1;
    /// <summary>Extra copies of the most loaded experts on other ranks.</summary>
    public int RedundantExperts { get; init; }
    /// <summary>Prefill chunks of at least this many tokens attend in the expanded form (see <see cref="Engine.Model.ModelShapeOptions"/>).</summary>
    public int ExpandedAttentionMinTokens { get; init; } = new Engine.Model.ModelShapeOptions().ExpandedAttentionMinTokens;
    /// <summary>Default max_tokens when a request gives none.</summary>
    public int DefaultMaxTokens { get; init; } = 256;
    /// <summary>Most choices per request (n).</summary>
    public int MaxChoices { get; init; } = 16;
    /// <summary>Largest accepted request body in bytes.</summary>
    public long MaxRequestBodyBytes { get; init; } = 4L << 20;

    /// <summary>Requests generating at once; more wait in a queue of <see cref="MaxQueuedRequests"/>, beyond which they get 429.</summary>
    public int MaxConcurrentRequests { get; init; } = 256;
    public int MaxQueuedRequests { get; init; } = 1024;
    /// <summary>A request's total time limit; it then ends cleanly with finish_reason "length".</summary>
    public double RequestTimeoutSeconds { get; init; } = 600;
    /// <summary>How long the engine circuit breaker stays open after repeated faults.</summary>
    public double BreakDurationSeconds { get; init; } = 5;
    /// <summary>On SIGTERM, how long running streams may finish before they are ended.</summary>
    public double DrainTimeoutSeconds { get; init; } = 30;
    /// <summary>When set, requests need "Authorization: Bearer KEY" (also SERVERV3_API_KEY).</summary>
    public string ApiKey { get; init; } = "";
    /// <summary>Whether /metrics needs the API key too (/health and /ready never do).</summary>
    public bool AuthenticateMetrics { get; init; }
    /// <summary>Most messages in one chat request.</summary>
    public int MaxMessages { get; init; } = 1024;
    /// <summary>Fault injection for tests and drills: engine steps that fail, e.g. "3-5,9" (numbered from 0).</summary>
    public string FaultSteps { get; init; } = "";

    public static string DemoModelDirectory => Path.Combine(AppContext.BaseDirectory, "models", "kjv-tiny-v3");

    public string ModelDirectory => string.IsNullOrEmpty(Model) ? DemoModelDirectory : Path.GetFullPath(Model);

    public string ModelName => string.IsNullOrEmpty(ServedModelName) ? Path.GetFileName(ModelDirectory.TrimEnd(Path.DirectorySeparatorChar)) : ServedModelName;
}
