using System.CommandLine;
using ServerV3.Engine.Model;
using ServerV3.Engine.Runtime;

namespace ServerV3.Server.Cli;

/// <summary>The options every engine-running command accepts, bound to <see cref="EngineOptions"/>.</summary>
public sealed class EngineOptionSet
{
    public Option<DeviceKind> Device { get; } = new("--device") { Description = "Accelerator: auto (CUDA when present), cpu or cuda", DefaultValueFactory = _ => DeviceKind.Auto };
    public Option<int> CpuThreads { get; } = new("--cpu-threads") { Description = "CPU accelerator worker threads (0: one per core)" };
    public Option<long> KvCacheMemory { get; } = new("--kv-cache-memory") { Description = "Bytes of latent KV cache", DefaultValueFactory = _ => 256L << 20 };
    public Option<int> BlockSize { get; } = new("--block-size") { Description = "Tokens per KV-cache block", DefaultValueFactory = _ => 64 };
    public Option<int> MaxBatchTokens { get; } = new("--max-batch-tokens") { Description = "Most tokens in one engine step", DefaultValueFactory = _ => 512 };

    public void AddTo(Command command)
    {
        command.Options.Add(Device);
        command.Options.Add(CpuThreads);
        command.Options.Add(KvCacheMemory);
        command.Options.Add(BlockSize);
        command.Options.Add(MaxBatchTokens);
    }

    public EngineOptions Bind(ParseResult result, int maxSequences = 64)
    {
        int maxTokens = Positive(result.GetValue(MaxBatchTokens), "--max-batch-tokens");
        return new EngineOptions
        {
            Device = result.GetValue(Device),
            CpuThreads = result.GetValue(CpuThreads),
            KvCacheMemory = Positive(result.GetValue(KvCacheMemory), "--kv-cache-memory"),
            BlockSize = Positive(result.GetValue(BlockSize), "--block-size"),
            Shape = new ModelShapeOptions { MaxTokensPerStep = maxTokens, MaxLogitRows = maxTokens, MaxSequences = maxSequences },
        };
    }

    private static T Positive<T>(T value, string name) where T : System.Numerics.INumber<T> =>
        value > T.Zero ? value : throw new UsageException($"{name} must be positive, got {value}");
}
