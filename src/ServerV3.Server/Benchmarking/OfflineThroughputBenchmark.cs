using System.Diagnostics;
using ServerV3.Engine.Runtime;
using ServerV3.Engine.Sampling;

namespace ServerV3.Server.Benchmarking;

/// <summary>
/// Offline generation throughput through the engine API (scheduler, paged cache, sampling): N requests of P random
/// prompt tokens submitted at once, each generating G tokens with the same sampling parameters (EOS ignored); output tokens per second of wall time.
/// </summary>
public static class OfflineThroughputBenchmark
{
    public sealed record Result(
        int Concurrency, int PromptTokens, int GenTokens, double Seconds, double OutputTokensPerSecond, double TotalTokensPerSecond, long Steps,
        double AcceptanceRate, double MeanAcceptedLength);

    public static async Task<Result> RunAsync(InferenceEngine engine, int vocab, int concurrency, int promptTokens, int genTokens, SamplingParams sampling, int seed = 0)
    {
        var random = new Random(seed);
        var prompts = Enumerable.Range(0, concurrency)
            .Select(_ => Enumerable.Range(0, promptTokens).Select(_ => random.Next(vocab)).ToArray()).ToArray();
        var requestSampling = sampling with { MaxTokens = genTokens, IgnoreEos = true };
        var before = engine.Counters;
        var clock = Stopwatch.StartNew();
        var counts = await Task.WhenAll(prompts.Select(async prompt =>
        {
            int tokens = 0;
            await foreach (var item in engine.Generate(prompt, requestSampling)) if (item.HasToken) tokens++;
            return tokens;
        }));
        double seconds = clock.Elapsed.TotalSeconds;
        int output = counts.Sum();
        var after = engine.Counters;
        long drafted = after.Speculation.DraftedTokens - before.Speculation.DraftedTokens;
        long accepted = after.Speculation.AcceptedTokens - before.Speculation.AcceptedTokens;
        long verifications = after.Speculation.Verifications - before.Speculation.Verifications;
        return new Result(concurrency, promptTokens, genTokens, seconds, output / seconds,
            (output + concurrency * promptTokens) / seconds, after.Steps - before.Steps,
            drafted == 0 ? 0 : (double)accepted / drafted, verifications == 0 ? 1 : 1 + (double)accepted / verifications);
    }
}
