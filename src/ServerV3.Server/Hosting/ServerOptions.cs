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
    /// <summary>Default max_tokens when a request gives none.</summary>
    public int DefaultMaxTokens { get; init; } = 256;
    /// <summary>Most choices per request (n).</summary>
    public int MaxChoices { get; init; } = 16;
    /// <summary>Largest accepted request body in bytes.</summary>
    public long MaxRequestBodyBytes { get; init; } = 4L << 20;

    public static string DemoModelDirectory => Path.Combine(AppContext.BaseDirectory, "models", "kjv-tiny-v3");

    public string ModelDirectory => string.IsNullOrEmpty(Model) ? DemoModelDirectory : Path.GetFullPath(Model);

    public string ModelName => string.IsNullOrEmpty(ServedModelName) ? Path.GetFileName(ModelDirectory.TrimEnd(Path.DirectorySeparatorChar)) : ServedModelName;
}
