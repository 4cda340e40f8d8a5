using Microsoft.Extensions.Options;
using ServerV3.Engine.Model;
using ServerV3.Engine.Runtime;
using ServerV3.Engine.Scheduling;
using ServerV3.Tokenization;

namespace ServerV3.Server.Hosting;

/// <summary>
/// Loads the model, its tokenizer and chat template, and runs the inference engine for the server's lifetime.
/// Loading happens in the background (with progress in the log) so the process answers /health at once and
/// /ready once the engine is up.
/// </summary>
public sealed partial class ModelService(IOptions<ServerOptions> options, ILogger<ModelService> logger, Telemetry.ServerMetrics metrics) : BackgroundService
{
    private readonly TaskCompletionSource<LoadedServices> loaded = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public ServerOptions Options { get; } = options.Value;

    public DateTimeOffset StartedAt { get; } = DateTimeOffset.UtcNow;

    public bool IsReady => loaded.Task.IsCompletedSuccessfully;

    /// <summary>The loaded model as the endpoints use it, or null while it is still loading (or failed to).</summary>
    public Endpoints.ServedModel? Served { get; private set; }

    public Task<LoadedServices> WhenLoaded => loaded.Task;

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.Run(() =>
    {
        try
        {
            var services = Load();
            Served = new Endpoints.ServedModel(services, Options);
            loaded.SetResult(services);
        }
        catch (Exception e)
        {
            LogLoadFailed(logger, Options.ModelDirectory, e.Message);
            loaded.SetException(e);
            throw;
        }
    }, stoppingToken);

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        // A host may be stopped twice (a signal, then disposal); the model is released once.
        if (IsReady && Interlocked.Exchange(ref stopped, 1) == 0) loaded.Task.Result.Dispose();
    }

    private int stopped;

    private LoadedServices Load()
    {
        string directory = Options.ModelDirectory;
        LogLoading(logger, directory);
        var config = Engine.Config.ModelConfig.Load(Path.Combine(directory, "config.json"));
        int speculative = Options.SpeculativeTokens ?? (config.NumNextnPredictLayers > 0 ? 1 : 0);
        var engineOptions = new EngineOptions
        {
            Device = Options.Device,
            CpuThreads = Options.CpuThreads,
            KvCacheMemory = Cli.EngineOptionSet.ParseBudget(Options.KvCacheMemory),
            BlockSize = Options.BlockSize,
            Shape = ModelShapeOptions.ForEngine(Options.MaxBatchTokens, Options.MaxRunning, speculative) with
            {
                ExpandedAttentionMinTokens = Options.ExpandedAttentionMinTokens,
            },
            ExpertParallel = new Engine.Moe.ExpertParallelOptions { Degree = Options.ExpertParallel, RedundantExperts = Options.RedundantExperts },
        };
        int lastPercent = -1;
        var model = LoadedModel.Load(directory, engineOptions, (done, total, bytes) =>
        {
            int percent = 100 * done / total;
            if (percent == lastPercent) return;
            lastPercent = percent;
            LogProgress(logger, percent, done, total, bytes / 1e6);
        });
        try
        {
            var tokenizer = HfTokenizer.Load(directory);
            var engine = new InferenceEngine(model, new SchedulerOptions
            {
                MaxBatchTokens = Options.MaxBatchTokens,
                MaxRunning = Options.MaxRunning,
                SpeculativeTokens = speculative,
            }, injectFault: Resilience.StepRanges.Parse(Options.FaultSteps));
            metrics.Attach(engine, model.Model.Experts.LoadSnapshot);
            LogReady(logger, Options.ModelName, model.Device.Name, model.Cache.NumBlocks, model.Cache.BlockSize, speculative);
            return new LoadedServices(model, engine, tokenizer);
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Loading model from {Directory}")]
    private static partial void LogLoading(ILogger logger, string directory);

    [LoggerMessage(Level = LogLevel.Information, Message = "Loading model: {Percent}% ({Done}/{Total} layers, {Megabytes:F1} MB)")]
    private static partial void LogProgress(ILogger logger, int percent, int done, int total, double megabytes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Serving {Model} on {Device}: {Blocks} KV blocks of {BlockSize} tokens, {Speculative} speculative tokens")]
    private static partial void LogReady(ILogger logger, string model, string device, int blocks, int blockSize, int speculative);

    [LoggerMessage(Level = LogLevel.Critical, Message = "Could not load the model from {Directory}: {Reason}")]
    private static partial void LogLoadFailed(ILogger logger, string directory, string reason);
}

/// <summary>What a ready server runs on.</summary>
public sealed record LoadedServices(LoadedModel Model, InferenceEngine Engine, HfTokenizer Tokenizer) : IDisposable
{
    public ChatPromptBuilder? ChatTemplate { get; } = Tokenizer.ChatTemplate is null ? null : ChatPromptBuilder.FromTokenizer(Tokenizer);

    public void Dispose()
    {
        Engine.Dispose();
        Model.Dispose();
    }
}
