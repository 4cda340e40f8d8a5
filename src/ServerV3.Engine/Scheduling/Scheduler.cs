using ServerV3.Engine.KvCache;

namespace ServerV3.Engine.Scheduling;

/// <summary>
/// Continuous batching. NOTE: there are no prefill and decode phases; each step hands out a token budget so that
/// every sequence's NumComputedTokens catches up with its NumTokens. Running sequences go first, oldest first (a
/// long prompt takes its chunk of the budget, so decodes keep flowing); then waiting ones are admitted in arrival
/// order, starting from their cached prefix. When blocks run out the newest running sequence is preempted: its
/// blocks are freed and it waits at the front of the queue to be recomputed.
/// </summary>
public sealed class Scheduler(KvCacheManager cache, SchedulerOptions options)
{
    private readonly List<Sequence> running = [];
    private readonly LinkedList<Sequence> waiting = new();

    public IReadOnlyList<Sequence> Running => running;
    public int NumWaiting => waiting.Count;
    public long NumPreemptions { get; private set; }
    public KvCacheManager Cache => cache;

    /// <summary>Whether a request of this many tokens could ever be served by the pool.</summary>
    public bool CanEverFit(int tokens) => cache.BlocksFor(tokens) <= cache.NumBlocks;

    public void Add(Sequence sequence) => waiting.AddLast(sequence);

    public bool HasWork => running.Count > 0 || waiting.Count > 0;

    public SchedulerOutput Schedule()
    {
        int budget = options.MaxBatchTokens;
        var scheduled = new List<(Sequence, int)>();
        var preempted = new List<Sequence>();
        foreach (var sequence in running.OrderBy(s => s.Order).ToList())
        {
            if (budget == 0) break;
            if (!running.Contains(sequence)) continue;
            int remaining = sequence.NumTokens - sequence.NumComputedTokens;
            // A decode verifies its drafts in the same forward, or drops them when the budget is short.
            if (remaining != 1 || 1 + sequence.Drafts.Count > budget) sequence.ClearDrafts();
            int tokens = Math.Min(remaining + sequence.Drafts.Count, budget);
            while (!cache.TryAllocate(sequence, WithLookahead(sequence, tokens)))
            {
                var victim = running.MaxBy(s => s.Order)!;
                Preempt(victim);
                preempted.Add(victim);
                if (victim == sequence) break;
            }
            if (!running.Contains(sequence)) continue;
            scheduled.Add((sequence, tokens));
            budget -= tokens;
        }
        // Admit waiting requests only when nothing had to give way this step.
        while (preempted.Count == 0 && budget > 0 && running.Count < options.MaxRunning && waiting.First is { } next)
        {
            var sequence = next.Value;
            var prefix = cache.FindCachedPrefix(sequence);
            int cached = prefix.Count * cache.BlockSize;
            int tokens = Math.Min(sequence.NumTokens - cached, budget);
            if (!cache.TryAdmit(sequence, prefix, WithLookahead(sequence, cached + tokens) - cached)) break;
            waiting.RemoveFirst();
            sequence.NumComputedTokens = cached;
            if (sequence.NumPreemptions == 0)
            {
                sequence.NumCachedPromptTokens = cached;
                sequence.ScheduledAt = System.Diagnostics.Stopwatch.GetTimestamp();
            }
            running.Add(sequence);
            scheduled.Add((sequence, tokens));
            budget -= tokens;
        }
        return new SchedulerOutput(scheduled, preempted);
    }

    /// <summary>
    /// Records a step's progress: each sequence's cache now holds <paramref name="validTokens"/> more tokens (fewer
    /// than scheduled when drafts were rejected: their entries are rolled back and the blocks past them released);
    /// registers the blocks it completed for prefix reuse.
    /// </summary>
    public void Computed(SchedulerOutput output, Func<Sequence, int> validTokens)
    {
        foreach (var (sequence, _) in output.Scheduled)
        {
            sequence.NumComputedTokens += validTokens(sequence);
            cache.CacheFullBlocks(sequence);
        }
    }

    /// <summary>Releases blocks past a sequence's computed tokens and its next step's needs.</summary>
    public void Trim(Sequence sequence) =>
        cache.Trim(sequence, Math.Min(sequence.NumTokens + sequence.Drafts.Count + Lookahead, options.MaxModelLength));

    /// <summary>Tokens to reserve for a step: the scheduled ones and the MTP lookahead, never past the context.</summary>
    private int WithLookahead(Sequence sequence, int tokens) =>
        Math.Min(sequence.NumComputedTokens + tokens + Lookahead, Math.Max(options.MaxModelLength, sequence.NumComputedTokens + tokens)) - sequence.NumComputedTokens;

    /// <summary>Positions past a step's tokens that the MTP module writes while drafting more than one token.</summary>
    private int Lookahead => Math.Max(0, options.SpeculativeTokens - 1);

    /// <summary>Ends a sequence (finished or aborted), running or waiting, and frees its blocks.</summary>
    public void Finish(Sequence sequence, FinishReason reason)
    {
        sequence.Finish = reason;
        running.Remove(sequence);
        waiting.Remove(sequence);
        cache.Free(sequence);
    }

    private void Preempt(Sequence sequence)
    {
        running.Remove(sequence);
        cache.Free(sequence);
        sequence.NumComputedTokens = 0;
        sequence.ClearDrafts();
        sequence.NumPreemptions++;
        NumPreemptions++;
        waiting.AddFirst(sequence);
    }
}
