using System.Buffers;
using ServerV3.Engine.Execution;
using ServerV3.Engine.KvCache;
using ServerV3.Engine.Model;
using ServerV3.Engine.Sampling;
using ServerV3.Engine.Scheduling;

namespace ServerV3.Engine.Speculative;

/// <summary>
/// Proposes draft tokens with the MTP module. After a step, every main-model position the step computed gets its
/// MTP row (the final-normed hidden state at position i with token i+1, no masking at position 0), which keeps the
/// MTP layer's cache in step with the main cache; the row of each sequence's last position predicts its first
/// draft. Further drafts apply the module again to its own output hidden state and draft, as vLLM and SGLang do.
/// </summary>
public sealed class MtpDrafter(DeepSeekV3Model model, KvCacheManager cache, int numDrafts)
{
    /// <summary>One sequence's rows in the step's main forward: batch rows [FirstRow, FirstRow + Count) at positions from FirstPosition.</summary>
    public readonly record struct MainRows(Sequence Sequence, int FirstRow, int Count, int FirstPosition);

    /// <param name="draftLimit">Most drafts worth proposing for a sequence (what it may still emit, minus the main model's own token).</param>
    public void Propose(IReadOnlyList<MainRows> rows, Func<Sequence, int> draftLimit)
    {
        if (rows.Count == 0) return;
        int total = rows.Sum(r => r.Count);
        var tokenIds = new int[total];
        var positions = new int[total];
        var tokenSequence = new int[total];
        var hiddenRows = new int[total];
        var tables = new int[rows.Count][];
        var logitRows = new List<int>();
        var drafting = new List<Sequence>();
        int t = 0;
        for (int s = 0; s < rows.Count; s++)
        {
            var (sequence, firstRow, count, firstPosition) = rows[s];
            tables[s] = [.. cache.BlockTable(sequence)];
            for (int i = 0; i < count; i++, t++)
            {
                tokenIds[t] = sequence.Tokens[firstPosition + i + 1];
                positions[t] = firstPosition + i;
                tokenSequence[t] = s;
                hiddenRows[t] = firstRow + i;
            }
            // Only a sequence whose last real token is the one after this step's last row drafts now.
            if (firstPosition + count == sequence.NumTokens - 1 && draftLimit(sequence) > 0)
            {
                logitRows.Add(t - 1);
                drafting.Add(sequence);
            }
        }
        var logits = model.ForwardMtp(new StepBatch(tokenIds, positions, tokenSequence, tables, [.. logitRows]), hiddenRows, fromMtpOutput: false);
        DraftFrom(logits.Span, drafting);
        for (int k = 1; k < numDrafts; k++)
        {
            // Row of the next position: the previous draft as the token, the module's own output as the hidden state.
            var keep = Enumerable.Range(0, drafting.Count).Where(i => draftLimit(drafting[i]) > k).ToArray();
            if (keep.Length == 0) break;
            var previousRows = keep.Select(i => logitRows[i]).ToArray();
            drafting = keep.Select(i => drafting[i]).ToList();
            var batch = new StepBatch(
                drafting.Select(s => s.Drafts[^1]).ToArray(),
                drafting.Select(s => s.NumTokens - 1 + s.Drafts.Count - 1).ToArray(),
                Enumerable.Range(0, drafting.Count).ToArray(),
                drafting.Select(s => cache.BlockTable(s).ToArray()).ToArray(),
                Enumerable.Range(0, drafting.Count).ToArray());
            logits = model.ForwardMtp(batch, previousRows, fromMtpOutput: true);
            logitRows = [.. Enumerable.Range(0, drafting.Count)];
            DraftFrom(logits.Span, drafting);
        }
    }

    private void DraftFrom(Span<float> logits, List<Sequence> drafting)
    {
        int vocab = model.Config.VocabSize;
        for (int i = 0; i < drafting.Count; i++)
        {
            var sequence = drafting[i];
            var row = logits.Slice(i * vocab, vocab);
            var p = sequence.Sampling;
            // q is processed exactly like p will be: penalties see the drafts before it. Copying the sequence's counts
            // and seen tokens (prompt included) is only worth it when there are drafts and penalties that read them.
            IReadOnlyDictionary<int, int> counts = sequence.OutputCounts;
            IReadOnlySet<int> seen = sequence.SeenTokens;
            if (sequence.Drafts.Count > 0 && p.HasPenalties)
            {
                var draftCounts = new Dictionary<int, int>(sequence.OutputCounts);
                var draftSeen = new HashSet<int>(sequence.SeenTokens);
                foreach (int d in sequence.Drafts)
                {
                    draftCounts[d] = draftCounts.GetValueOrDefault(d) + 1;
                    draftSeen.Add(d);
                }
                (counts, seen) = (draftCounts, draftSeen);
            }
            Sampler.Process(row, p, counts, seen);
            if (p.IsGreedy)
            {
                sequence.Drafts.Add(Sampler.ArgMax(row));
                sequence.DraftDistributions.Add(null);
            }
            else
            {
                var q = ArrayPool<double>.Shared.Rent(vocab);
                Sampler.DenseInto(row, p, q);
                sequence.Drafts.Add(Sampler.DrawDense(q.AsSpan(0, vocab), sequence.Random));
                sequence.DraftDistributions.Add(q);
            }
        }
    }
}
