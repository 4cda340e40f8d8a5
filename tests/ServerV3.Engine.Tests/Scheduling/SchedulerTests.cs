using ServerV3.Engine.KvCache;
using ServerV3.Engine.Sampling;
using ServerV3.Engine.Scheduling;

namespace ServerV3.Engine.Tests.Scheduling;

/// <summary>The scheduler and the KV cache manager without a device.</summary>
public sealed class SchedulerTests
{
    private static (Scheduler Scheduler, KvCacheManager Cache) CreateScheduler(int numBlocks = 64, int blockSize = 4, int maxBatchTokens = 32, int maxRunning = 8)
    {
        var cache = new KvCacheManager(new BlockPool(numBlocks), blockSize);
        return (new Scheduler(cache, new SchedulerOptions { MaxBatchTokens = maxBatchTokens, MaxRunning = maxRunning }), cache);
    }

    private static Sequence CreateSequence(long order, int promptLength, int firstToken = 0) =>
        new(order, Enumerable.Range(firstToken, promptLength).ToArray(), new SamplingParams { Temperature = 0, MaxTokens = 8 });

    /// <summary>Plays one step: records progress and appends one token to each sequence that completed its tokens.</summary>
    private static void Complete(Scheduler scheduler, SchedulerOutput output)
    {
        scheduler.Computed(output, sequence => output.Scheduled.Single(s => s.Sequence == sequence).NumTokens);
        foreach (var (sequence, _) in output.Scheduled)
            if (sequence.NumComputedTokens == sequence.NumTokens) sequence.Append(7);
    }

    [Fact]
    public void LongPromptsAreChunkedAndDecodesKeepFlowing()
    {
        var (scheduler, _) = CreateScheduler(maxBatchTokens: 16);
        var shortOne = CreateSequence(1, 3);
        var longOne = CreateSequence(2, 40);
        scheduler.Add(shortOne);
        scheduler.Add(longOne);
        var first = scheduler.Schedule();
        Assert.Equal([(shortOne, 3), (longOne, 13)], first.Scheduled);
        Complete(scheduler, first);
        var second = scheduler.Schedule();
        Assert.Equal([(shortOne, 1), (longOne, 15)], second.Scheduled);
        Complete(scheduler, second);
        Assert.Equal(28, longOne.NumComputedTokens);
    }

    [Fact]
    public void TheNewestRunningSequenceIsPreemptedWhenBlocksRunOut()
    {
        var (scheduler, cache) = CreateScheduler(numBlocks: 6, blockSize: 4);
        var older = CreateSequence(1, 11);
        var newer = CreateSequence(2, 11);
        scheduler.Add(older);
        scheduler.Add(newer);
        var first = scheduler.Schedule();
        Assert.Equal(2, first.Scheduled.Count);
        Complete(scheduler, first);
        Assert.Equal(0, cache.NumFreeBlocks);
        // Both now need a fourth block for position 12; only preempting the newer one frees it.
        Complete(scheduler, scheduler.Schedule());
        var third = scheduler.Schedule();
        Assert.Equal([newer], third.Preempted);
        Assert.Contains(older, scheduler.Running);
        Assert.Equal(0, newer.NumComputedTokens);
        Assert.Equal(1, scheduler.NumWaiting);
    }

    [Fact]
    public void ACachedPrefixIsSharedAndOnlyTheRestIsScheduled()
    {
        var (scheduler, cache) = CreateScheduler(blockSize: 4);
        var first = CreateSequence(1, 10);
        scheduler.Add(first);
        Complete(scheduler, scheduler.Schedule());
        var second = new Sequence(2, [0, 1, 2, 3, 4, 5, 6, 7, 100, 101], new SamplingParams { Temperature = 0 });
        scheduler.Add(second);
        var step = scheduler.Schedule();
        Assert.Contains((second, 2), step.Scheduled);
        Assert.Equal(8, second.NumComputedTokens);
        Assert.Equal(cache.BlockTable(first).Take(2), cache.BlockTable(second).Take(2));
        Assert.Equal(8, cache.PrefixHitTokens);
    }

    [Fact]
    public void AFullyCachedPromptStillComputesItsLastToken()
    {
        var (scheduler, cache) = CreateScheduler(blockSize: 4);
        var first = CreateSequence(1, 8);
        scheduler.Add(first);
        Complete(scheduler, scheduler.Schedule());
        scheduler.Finish(first, FinishReason.Stop);
        var again = CreateSequence(2, 8);
        scheduler.Add(again);
        var step = scheduler.Schedule();
        Assert.Equal([(again, 4)], step.Scheduled);
        Assert.Equal(4, cache.PrefixHitTokens);
    }

    [Fact]
    public void FreedCachedBlocksAreEvictedLeastRecentlyUsedFirst()
    {
        var pool = new BlockPool(3);
        int a = pool.Allocate(), b = pool.Allocate();
        pool.Register(a, 11, -1, [1]);
        pool.Register(b, 22, -1, [2]);
        pool.Release(a);
        pool.Release(b);
        Assert.Equal(3, pool.NumFreeBlocks);
        int c = pool.Allocate(); // never-used block first
        Assert.NotEqual(a, c);
        Assert.NotEqual(b, c);
        Assert.Equal(a, pool.Allocate()); // then the least recently freed, losing its cached contents
        Assert.Null(pool.Lookup(11, -1, [1]));
        Assert.Equal(b, pool.Lookup(22, -1, [2]));
        Assert.Null(pool.Lookup(22, -1, [3])); // a hash hit with other tokens is not a hit
    }

    [Fact]
    public void WaitingRequestsAreAdmittedFirstComeFirstServed()
    {
        var (scheduler, _) = CreateScheduler(maxRunning: 2);
        var sequences = Enumerable.Range(1, 4).Select(i => CreateSequence(i, 2, firstToken: 100 * i)).ToArray();
        foreach (var s in sequences) scheduler.Add(s);
        var step = scheduler.Schedule();
        Assert.Equal(sequences.Take(2), step.Scheduled.Select(s => s.Sequence));
        Complete(scheduler, step);
        scheduler.Finish(sequences[0], FinishReason.Stop);
        Assert.Contains(sequences[2], scheduler.Schedule().Scheduled.Select(s => s.Sequence));
    }
}
