using System.CommandLine;
using ServerV3.Engine.Config;
using ServerV3.Engine.KvCache;
using ServerV3.Engine.Model;
using ServerV3.Engine.Moe;
using ServerV3.Engine.Runtime;
using ServerV3.Engine.Scheduling;
using static ServerV3.Server.Cli.UsageException;

namespace ServerV3.Server.Cli;

/// <summary>The options every engine-running command accepts, bound to <see cref="EngineOptions"/> and <see cref="SchedulerOptions"/>.</summary>
public sealed class EngineOptionSet
{
    public Option<DeviceKind> Device { get; } = new("--device") { Description = "Accelerator: auto (CUDA when present), cpu or cuda", DefaultValueFactory = _ => DeviceKind.Auto };
    public Option<int> CpuThreads { get; } = new("--cpu-threads") { Description = "CPU accelerator worker threads (0: one per core)" };
    public Option<string> KvCacheMemory { get; } = new("--kv-cache-memory") { Description = "Latent KV cache size: bytes (268435456, 256MiB, 2GiB) or a fraction of the free memory (0.9)", DefaultValueFactory = _ => "256MiB" };
    public Option<int> BlockSize { get; } = new("--block-size") { Description = "Tokens per KV-cache block", DefaultValueFactory = _ => 64 };
    public Option<int> MaxBatchTokens { get; } = new("--max-batch-tokens") { Description = "Most tokens in one engine step", DefaultValueFactory = _ => 512 };
    public Option<int> MaxRunning { get; } = new("--max-running") { Description = "Most sequences running at once", DefaultValueFactory = _ => 64 };
    public Option<int?> SpeculativeTokens { get; } = new("--speculative-tokens") { Description = "MTP draft tokens per step (default 1 when the model has an MTP layer; 0 turns speculation off)" };
    public Option<int> ExpertParallel { get; } = new("--expert-parallel") { Description = "Accelerators the routed experts are split over (EP ranks; on the CPU, CPU accelerators with --cpu-threads / D workers each after the first)", DefaultValueFactory = _ => 1 };
    public Option<int> RedundantExperts { get; } = new("--redundant-experts") { Description = "Extra copies of the most loaded experts on other ranks, re-placed from the recent load (needs --expert-parallel 2 or more)" };
    public Option<int> ExpandedAttentionMinTokens { get; } = new("--expanded-attention-min-tokens")
    {
        Description = "Prefill chunks of at least this many tokens attend in the expanded form (per-head keys and values from kv_b_proj)",
        DefaultValueFactory = _ => new ModelShapeOptions().ExpandedAttentionMinTokens,
    };

    public void AddTo(Command command)
    {
        foreach (var option in new Option[] { Device, CpuThreads, KvCacheMemory, BlockSize, MaxBatchTokens, MaxRunning, SpeculativeTokens, ExpertParallel, RedundantExperts, ExpandedAttentionMinTokens })
            command.Options.Add(option);
    }

    /// <param name="modelDirectory">Its config.json decides the default of --speculative-tokens.</param>
    /// <param name="maxRunning">Overrides --max-running (the benchmarks size it to their concurrency).</param>
    public (EngineOptions Engine, SchedulerOptions Scheduler) Bind(ParseResult result, string modelDirectory, int? maxRunning = null)
    {
        int maxTokens = Positive(result.GetValue(MaxBatchTokens), "--max-batch-tokens");
        int running = maxRunning ?? Positive(result.GetValue(MaxRunning), "--max-running");
        var config = ModelConfig.Load(Path.Combine(modelDirectory, "config.json"));
        int speculative = result.GetValue(SpeculativeTokens) ?? (config.NumNextnPredictLayers > 0 ? 1 : 0);
        if (speculative < 0) throw new UsageException($"--speculative-tokens must not be negative, got {speculative}");
        var expertParallel = new ExpertParallelOptions { Degree = result.GetValue(ExpertParallel), RedundantExperts = result.GetValue(RedundantExperts) };
        try
        {
            expertParallel.Validate(config.NRoutedExperts);
        }
        catch (ArgumentException e)
        {
            throw new UsageException(e.Message);
        }
        var engine = new EngineOptions
        {
            Device = result.GetValue(Device),
            CpuThreads = result.GetValue(CpuThreads),
            KvCacheMemory = ParseBudget(result.GetValue(KvCacheMemory)),
            BlockSize = Positive(result.GetValue(BlockSize), "--block-size"),
            Shape = ModelShapeOptions.ForEngine(maxTokens, running, speculative) with
            {
                ExpandedAttentionMinTokens = Positive(result.GetValue(ExpandedAttentionMinTokens), "--expanded-attention-min-tokens"),
            },
            ExpertParallel = expertParallel,
        };
        return (engine, new SchedulerOptions { MaxBatchTokens = maxTokens, MaxRunning = running, SpeculativeTokens = speculative });
    }

    public static KvCacheBudget ParseBudget(string? text) => KvCacheBudget.TryParse(text, out var budget)
        ? budget
        : throw new UsageException($"--kv-cache-memory: \"{text}\" is neither a size (268435456, 256MiB, 2GiB) nor a fraction of free memory (0.9)");
}
