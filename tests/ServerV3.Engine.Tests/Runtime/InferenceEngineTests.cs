using ServerV3.Engine.Runtime;
using ServerV3.Engine.Sampling;
using ServerV3.Engine.Scheduling;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests.Runtime;

/// <summary>Continuous batching end to end on tiny-v3: batch invariance, prefix caching, preemption, cancellation, seeds.</summary>
public sealed class InferenceEngineTests
{
    private const int Vocab = 1024;

    [Fact]
    public async Task GoldenGreedyContinuationsComeOutOfTheEngine()
    {
        var golden = new GoldenData("tiny-v3");
        using var harness = new EngineHarness();
        var runs = Enumerable.Range(0, golden.NumPrompts).Select(p => harness.TokensAsync(golden.Prompt(p), EngineHarness.Greedy(16))).ToArray();
        var outputs = await Task.WhenAll(runs);
        for (int p = 0; p < outputs.Length; p++) Assert.Equal(golden.Ids($"p{p}.greedy"), outputs[p]);
    }

    [Fact]
    public async Task ConcurrentGreedyRequestsGiveExactlyTheTokensEachGivesAlone()
    {
        var random = new Random(5);
        int[] lengths = [1, 300, 17, 64, 2, 129, 33, 250, 5, 90, 48, 200, 3, 77, 160, 11];
        var prompts = lengths.Select(n => EngineHarness.RandomPrompt(random, n, Vocab)).ToArray();
        using var harness = new EngineHarness(maxBatchTokens: 128);
        var alone = new List<int[]>();
        foreach (var prompt in prompts) alone.Add(await harness.TokensAsync(prompt, EngineHarness.Greedy(12)));
        foreach (int concurrency in new[] { 4, 16 })
        {
            var batched = await Task.WhenAll(prompts.Take(concurrency).Select(p => harness.TokensAsync(p, EngineHarness.Greedy(12))));
            for (int i = 0; i < concurrency; i++) Assert.Equal(alone[i], batched[i]);
        }
    }

    [Fact]
    public async Task ASharedPrefixIsComputedOnceAndChangesNothing()
    {
        var random = new Random(6);
        var prefix = EngineHarness.RandomPrompt(random, 200, Vocab);
        int[] first = [.. prefix, .. EngineHarness.RandomPrompt(random, 20, Vocab)];
        int[] second = [.. prefix, .. EngineHarness.RandomPrompt(random, 30, Vocab)];
        int[] expected;
        using (var fresh = new EngineHarness()) expected = await fresh.TokensAsync(second, EngineHarness.Greedy(10));

        using var harness = new EngineHarness(blockSize: 16);
        await harness.TokensAsync(first, EngineHarness.Greedy(10));
        var before = await harness.IdleAsync();
        var output = await harness.TokensAsync(second, EngineHarness.Greedy(10));
        var after = await harness.IdleAsync();

        Assert.Equal(expected, output);
        int cached = 200 / 16 * 16;
        Assert.Equal(cached, after.PrefixHitTokens - before.PrefixHitTokens);
        Assert.Equal(second.Length, after.PrefixQueriedTokens - before.PrefixQueriedTokens);
        Assert.Equal(second.Length - cached, after.PromptTokensComputed - before.PromptTokensComputed);
    }

    [Fact]
    public async Task AFullPoolPreemptsAndEveryRequestStillGetsItsTokens()
    {
        var random = new Random(7);
        var prompts = Enumerable.Range(0, 8).Select(i => EngineHarness.RandomPrompt(random, 40 + 10 * i, Vocab)).ToArray();
        int[][] expected;
        using (var large = new EngineHarness()) expected = await Task.WhenAll(prompts.Select(p => large.TokensAsync(p, EngineHarness.Greedy(24))));

        // 4 layers x 16 tokens x 80 floats x 4 bytes = 20 KiB per block: 20 blocks hold 320 tokens, far below the 8 x ~100 needed.
        using var small = new EngineHarness(kvCacheMemory: 20 * 20480, blockSize: 16);
        var outputs = await Task.WhenAll(prompts.Select(p => small.TokensAsync(p, EngineHarness.Greedy(24))));
        var counters = await small.IdleAsync();

        Assert.True(counters.NumPreemptions > 0, "expected preemptions with a pool this small");
        for (int i = 0; i < prompts.Length; i++) Assert.Equal(expected[i], outputs[i]);
        Assert.Equal(counters.NumBlocks, counters.NumFreeBlocks);
    }

    [Fact]
    public async Task CancelledRequestsGiveEveryBlockBack()
    {
        var random = new Random(8);
        using var harness = new EngineHarness(kvCacheMemory: 64 * 20480, blockSize: 16);
        int initial = (await harness.IdleAsync()).NumFreeBlocks;
        var runs = Enumerable.Range(0, 200).Select(async i =>
        {
            using var cancellation = new CancellationTokenSource();
            if (i % 3 == 0) cancellation.CancelAfter(random.Next(1, 30));
            var prompt = EngineHarness.RandomPrompt(new Random(i), 5 + i % 60, Vocab);
            int stopAfter = i % 3 == 1 ? 2 : int.MaxValue;
            int received = 0;
            try
            {
                await foreach (var item in harness.Engine.Generate(prompt, EngineHarness.Greedy(20), cancellation.Token))
                    if (++received >= stopAfter) break; // the client walks away mid-stream
            }
            catch (OperationCanceledException)
            {
            }
        }).ToArray();
        await Task.WhenAll(runs);
        var counters = await harness.IdleAsync();
        Assert.Equal(initial, counters.NumFreeBlocks);
    }

    [Fact]
    public async Task ASeedReproducesTheSameTokensWhateverSharesTheBatch()
    {
        var random = new Random(9);
        var prompt = EngineHarness.RandomPrompt(random, 30, Vocab);
        var seeded = new SamplingParams { Temperature = 1, TopP = 0.9f, MaxTokens = 20, Seed = 1234, IgnoreEos = true };
        using var harness = new EngineHarness();
        var alone = await harness.TokensAsync(prompt, seeded);
        var others = Enumerable.Range(0, 6).Select(i => harness.TokensAsync(EngineHarness.RandomPrompt(random, 10 + i, Vocab), seeded with { Seed = i })).ToList();
        var together = await harness.TokensAsync(prompt, seeded);
        await Task.WhenAll(others);
        Assert.Equal(alone, together);
        Assert.NotEqual(alone, await harness.TokensAsync(prompt, seeded with { Seed = 99 }));
    }

    [Fact]
    public async Task StopTokensAndMaxTokensSetTheFinishReason()
    {
        var golden = new GoldenData("tiny-v3");
        using var harness = new EngineHarness();
        int[] greedy = golden.Ids("p2.greedy");
        var stopped = await harness.RunAsync(golden.Prompt(2), EngineHarness.Greedy(16) with { StopTokenIds = [greedy[3]] });
        Assert.Equal(greedy.Take(4), stopped.Select(e => e.TokenId));
        Assert.Equal(FinishReason.Stop, stopped[^1].Finish);
        var limited = await harness.RunAsync(golden.Prompt(2), EngineHarness.Greedy(5));
        Assert.Equal(5, limited.Count);
        Assert.Equal(FinishReason.Length, limited[^1].Finish);
    }

    [Fact]
    public async Task ImpossibleRequestsAreRejectedClearly()
    {
        using var harness = new EngineHarness(kvCacheMemory: 4 * 20480, blockSize: 16);
        var tooLong = await Assert.ThrowsAsync<RequestRejectedException>(() => harness.RunAsync(new int[500], EngineHarness.Greedy(100)));
        Assert.Contains("context length of 512", tooLong.Message);
        var tooBig = await Assert.ThrowsAsync<RequestRejectedException>(() => harness.RunAsync(new int[100], EngineHarness.Greedy(10)));
        Assert.Contains("can never fit in the KV cache", tooBig.Message);
        var badId = await Assert.ThrowsAsync<RequestRejectedException>(() => harness.RunAsync([1, 5000], EngineHarness.Greedy(1)));
        Assert.Contains("outside the vocabulary", badId.Message);
    }
}
