using ServerV3.Engine.KvCache;
using ServerV3.Engine.Model;
using ServerV3.Engine.Sampling;
using ServerV3.Engine.Scheduling;
using ServerV3.Engine.Speculative;

namespace ServerV3.Engine.Execution;

/// <summary>
/// Turns a scheduler's plan into one batched forward over every scheduled token (real tokens and drafts), then
/// decides each sequence's next tokens: plain sampling after a finished prefill or a decode, speculative
/// verification when drafts were scheduled. Mid-prompt chunks get no logits.
/// </summary>
public sealed class ModelRunner(DeepSeekV3Model model, KvCacheManager cache, AcceptanceRule acceptanceRule = AcceptanceRule.Exact)
{
    public StepResult Execute(SchedulerOutput output)
    {
        int total = output.NumTokens;
        var tokenIds = new int[total];
        var positions = new int[total];
        var tokenSequence = new int[total];
        var blockTables = new int[output.Scheduled.Count][];
        var logitRows = new List<int>();
        var rows = new List<MtpDrafter.MainRows>();
        var deciding = new List<(Sequence Sequence, int Rows)>();
        int t = 0;
        for (int s = 0; s < output.Scheduled.Count; s++)
        {
            var (sequence, count) = output.Scheduled[s];
            blockTables[s] = [.. cache.BlockTable(sequence)];
            int first = sequence.NumComputedTokens;
            rows.Add(new MtpDrafter.MainRows(sequence, t, count, first));
            for (int i = 0; i < count; i++, t++)
            {
                tokenIds[t] = sequence.TokenAt(first + i);
                positions[t] = first + i;
                tokenSequence[t] = s;
                // Logits from the sequence's last real token on: its next token and the verdict on each draft.
                if (first + i >= sequence.NumTokens - 1) logitRows.Add(t);
            }
            int decided = first + count - Math.Max(first, sequence.NumTokens - 1);
            if (decided > 0) deciding.Add((sequence, decided));
        }
        var logits = model.Forward(new StepBatch(tokenIds, positions, tokenSequence, blockTables, [.. logitRows]));
        int vocab = model.Config.VocabSize;
        var firstRows = new int[deciding.Count];
        for (int d = 1; d < deciding.Count; d++) firstRows[d] = firstRows[d - 1] + deciding[d - 1].Rows;
        // Sequences decide independently (own logits rows, own random stream), so they sample in parallel: a sampled
        // draw walks the whole vocabulary (1.7 ms at 129,280 ids, 5 ms with top-p), which would otherwise add up
        // sequence by sequence on the engine thread.
        var outcomes = new SequenceOutcome[deciding.Count];
        Parallel.For(0, deciding.Count, d =>
        {
            var (sequence, count) = deciding[d];
            int drafted = sequence.Drafts.Count;
            var (emitted, accepted) = SpeculativeVerifier.Verify(sequence, logits.Slice(firstRows[d] * vocab, count * vocab).Span, vocab, acceptanceRule);
            sequence.ClearDrafts();
            outcomes[d] = new SequenceOutcome(sequence, emitted, drafted, accepted);
        });
        return new StepResult(outcomes, rows);
    }
}

/// <summary>What one sequence got from a step: its new tokens, and how many of its drafts were accepted.</summary>
public sealed record SequenceOutcome(Sequence Sequence, IReadOnlyList<(int Token, TokenLogprobs? Logprobs)> Emitted, int Drafted, int Accepted)
{
    /// <summary>Scheduled tokens whose cache entries stay: all but the rejected drafts.</summary>
    public int RejectedDrafts => Drafted - Accepted;
}

/// <summary>A step's outcomes, and where each scheduled sequence's rows were in the forward (for the MTP drafter).</summary>
public sealed record StepResult(IReadOnlyList<SequenceOutcome> Outcomes, IReadOnlyList<MtpDrafter.MainRows> Rows);
