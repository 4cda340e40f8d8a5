using ServerV3.Engine.Sampling;
using ServerV3.Engine.Speculative;
using ServerV3.Engine.Tests.Runtime;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests.Speculative;

/// <summary>MTP speculative decoding: greedy output unchanged, sampled distribution unchanged, nothing leaks.</summary>
public sealed class SpeculativeDecodingTests
{
    private const int Vocab = 1024;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task GreedyOutputIsIdenticalWithSpeculationOn(int k)
    {
        var golden = new GoldenData("tiny-v3");
        var random = new Random(11);
        var prompts = Enumerable.Range(0, golden.NumPrompts).Select(golden.Prompt)
            .Concat(new[] { 1, 300, 17, 64, 2, 129, 33, 250, 5, 90, 48, 200 }.Select(n => EngineHarness.RandomPrompt(random, n, Vocab))).ToArray();
        using var plain = new EngineHarness();
        var expected = await Task.WhenAll(prompts.Select(p => plain.TokensAsync(p, EngineHarness.Greedy(16))));
        using var speculative = new EngineHarness(speculativeTokens: k);
        var actual = await Task.WhenAll(prompts.Select(p => speculative.TokensAsync(p, EngineHarness.Greedy(16))));
        for (int i = 0; i < golden.NumPrompts; i++) Assert.Equal(golden.Ids($"p{i}.greedy"), actual[i]);
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(expected[i], actual[i]);
        var counters = await speculative.IdleAsync();
        Assert.True(counters.Speculation.DraftedTokens > 0);
        Assert.Equal(k, counters.Speculation.DraftedByPosition.Count);
        Assert.Equal(counters.NumBlocks, counters.NumFreeBlocks);
    }

    [Fact]
    public async Task SpeculativeRequestsWithCancellationsLeakNoBlocks()
    {
        var random = new Random(12);
        using var harness = new EngineHarness(kvCacheMemory: 64 * 20480, speculativeTokens: 2);
        int initial = (await harness.IdleAsync()).NumFreeBlocks;
        await Task.WhenAll(Enumerable.Range(0, 200).Select(async i =>
        {
            using var cancellation = new CancellationTokenSource();
            if (i % 3 == 0) cancellation.CancelAfter(random.Next(1, 30));
            var sampling = i % 2 == 0 ? EngineHarness.Greedy(20) : new SamplingParams { Temperature = 1, MaxTokens = 20, Seed = i, IgnoreEos = true };
            int received = 0;
            try
            {
                await foreach (var item in harness.Engine.Generate(EngineHarness.RandomPrompt(new Random(i), 5 + i % 60, Vocab), sampling, cancellation.Token))
                    if (++received >= (i % 3 == 1 ? 3 : int.MaxValue)) break;
            }
            catch (OperationCanceledException)
            {
            }
        }));
        Assert.Equal(initial, (await harness.IdleAsync()).NumFreeBlocks);
    }

    /// <summary>
    /// At temperature 1, each of the first three generated tokens has the same distribution with and without
    /// speculation (chi-square over 20,000 samples), and an always-accept rule is caught by the same test.
    /// </summary>
    [Fact]
    public async Task SampledTokensKeepTheMainModelsDistribution()
    {
        const int samples = 20000, Wave = 256;
        // 17 tokens with 16-token blocks: after the first request only the last prompt token is computed.
        var prompt = EngineHarness.RandomPrompt(new Random(13), 17, Vocab);
        var plain = await FirstTokens(speculativeTokens: 0, AcceptanceRule.Exact);
        var exact = await FirstTokens(speculativeTokens: 1, AcceptanceRule.Exact);
        var wrong = await FirstTokens(speculativeTokens: 1, AcceptanceRule.AlwaysAcceptForTesting);
        for (int position = 0; position < 3; position++)
        {
            double p = ChiSquare.HomogeneityPValue(plain.Select(t => t[position]), exact.Select(t => t[position]));
            Assert.True(p > 0.001, $"token {position}: p = {p:E2} with the exact rule");
        }
        double wrongP = Enumerable.Range(1, 2).Min(position => ChiSquare.HomogeneityPValue(plain.Select(t => t[position]), wrong.Select(t => t[position])));
        Assert.True(wrongP < 0.001, $"the always-accept rule went unnoticed (p = {wrongP:E2})");

        async Task<int[][]> FirstTokens(int speculativeTokens, AcceptanceRule rule)
        {
            using var harness = new EngineHarness(maxRunning: Wave, maxBatchTokens: 1024, speculativeTokens: speculativeTokens, acceptanceRule: rule);
            var results = new int[samples][];
            var sampling = new SamplingParams { Temperature = 1, MaxTokens = 3, IgnoreEos = true };
            // Waves of concurrent requests; the shared prompt is served from the prefix cache after the first.
            for (int start = 0; start < samples; start += Wave)
            {
                var wave = Enumerable.Range(start, Math.Min(Wave, samples - start))
                    .Select(i => harness.TokensAsync(prompt, sampling with { Seed = i + 1 })).ToArray();
                var tokens = await Task.WhenAll(wave);
                for (int i = 0; i < tokens.Length; i++) results[start + i] = tokens[i];
            }
            return results;
        }
    }
}
