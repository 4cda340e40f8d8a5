using ServerV3.Engine.KvCache;
using ServerV3.Engine.Model;
using ServerV3.Engine.Moe;
using ServerV3.Engine.Runtime;
using ServerV3.Engine.Sampling;
using ServerV3.Engine.Scheduling;
using ServerV3.Engine.Speculative;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests.Runtime;

/// <summary>A golden model with its own cache behind an <see cref="InferenceEngine"/>, and helpers to drive it.</summary>
public sealed class EngineHarness : IDisposable
{
    public EngineHarness(
        string model = "tiny-v3", long kvCacheMemory = 16L << 20, int blockSize = 16, int maxBatchTokens = 256, int maxRunning = 32,
        int speculativeTokens = 0, AcceptanceRule acceptanceRule = AcceptanceRule.Exact, ExpertParallelOptions? expertParallel = null)
    {
        Model = LoadedModel.Load(RepositoryPaths.Golden(model), new EngineOptions
        {
            Device = DeviceKind.Cpu,
            KvCacheMemory = KvCacheBudget.FromBytes(kvCacheMemory),
            BlockSize = blockSize,
            Shape = ModelShapeOptions.ForEngine(maxBatchTokens, maxRunning, speculativeTokens),
            ExpertParallel = expertParallel ?? new ExpertParallelOptions(),
        });
        Engine = new InferenceEngine(Model,
            new SchedulerOptions { MaxBatchTokens = maxBatchTokens, MaxRunning = maxRunning, SpeculativeTokens = speculativeTokens }, acceptanceRule);
    }

    public LoadedModel Model { get; }
    public InferenceEngine Engine { get; }

    public static SamplingParams Greedy(int maxTokens) => new() { Temperature = 0, MaxTokens = maxTokens, IgnoreEos = true };

    public async Task<List<TokenEvent>> RunAsync(IReadOnlyList<int> prompt, SamplingParams sampling, CancellationToken cancellation = default)
    {
        var events = new List<TokenEvent>();
        await foreach (var item in Engine.Generate(prompt, sampling, cancellation)) events.Add(item);
        return events;
    }

    public async Task<int[]> TokensAsync(IReadOnlyList<int> prompt, SamplingParams sampling) =>
        (await RunAsync(prompt, sampling)).Where(e => e.HasToken).Select(e => e.TokenId).ToArray();

    /// <summary>Waits until the engine thread has processed every finish and cancellation.</summary>
    public async Task<EngineCounters> IdleAsync()
    {
        for (int i = 0; i < 500; i++)
        {
            var counters = Engine.Counters;
            if (counters.NumRunning == 0 && counters.NumWaiting == 0) return counters;
            await Task.Delay(10);
        }
        throw new TimeoutException("the engine did not become idle");
    }

    public static int[] RandomPrompt(Random random, int length, int vocab) => Enumerable.Range(0, length).Select(_ => random.Next(vocab)).ToArray();

    public void Dispose()
    {
        Engine.Dispose();
        Model.Dispose();
    }
}
