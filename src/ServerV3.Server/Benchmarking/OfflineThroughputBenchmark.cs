using System.Diagnostics;
using ServerV3.Engine.Runtime;
using ServerV3.Engine.Sampling;

namespace ServerV3.Server.Benchmarking;

/// <summary>
/// Offline generation throughput through the engine API (scheduler, paged cache, sampling): N requests of P random
/// prompt tokens submitted at once, each generating G tokens (greedy, EOS ignored); output tokens per second of wall time.
/// </summary>
public static class OfflineThroughputBenchmark
{
    public sealed record Result(int Concurrency, int PromptTokens, int GenTokens, double Seconds, double OutputTokensPerSecond, double TotalTokensPerSecond, long Steps);

    public static async Task<Result> RunAsync(InferenceEngine engine, int vocab, int concurrency, int promptTokens, int genTokens, int seed = 0)
    {
        var random = new Random(seed);
        var prompts = Enumerable.Range(0, concurrency)
            .Select(_ => Enumerable.Range(0, promptTokens).Select(_ => random.Next(vocab)).ToArray()).ToArray();
        var sampling = new SamplingParams { Temperature = 0, MaxTokens = genTokens, IgnoreEos = true };
        long stepsBefore = engine.Counters.Steps;
        var clock = Stopwatch.StartNew();
        var counts = await Task.WhenAll(prompts.Select(async prompt =>
        {
            int tokens = 0;
            await foreach (var item in engine.Generate(prompt, sampling)) if (item.HasToken) tokens++;
            return tokens;
        }));
        double seconds = clock.Elapsed.TotalSeconds;
        int output = counts.Sum();
        return new Result(concurrency, promptTokens, genTokens, seconds, output / seconds,
            (output + concurrency * promptTokens) / seconds, engine.Counters.Steps - stepsBefore);
    }
}
