using ServerV3.Engine.KvCache;
using ServerV3.Engine.Model;
using ServerV3.Engine.Sampling;
using ServerV3.Engine.Scheduling;

namespace ServerV3.Engine.Execution;

/// <summary>
/// Turns a scheduler's plan into one batched forward and samples a token for every sequence whose step reaches
/// its last token (a finished prefill or a decode); mid-prompt chunks get no logits.
/// </summary>
public sealed class ModelRunner(DeepSeekV3Model model, KvCacheManager cache)
{
    public IReadOnlyList<SampledToken> Execute(SchedulerOutput output)
    {
        int total = output.NumTokens;
        var tokenIds = new int[total];
        var positions = new int[total];
        var tokenSequence = new int[total];
        var blockTables = new int[output.Scheduled.Count][];
        var logitRows = new List<int>();
        var sampledSequences = new List<Sequence>();
        int t = 0;
        for (int s = 0; s < output.Scheduled.Count; s++)
        {
            var (sequence, count) = output.Scheduled[s];
            blockTables[s] = [.. cache.BlockTable(sequence)];
            for (int i = 0; i < count; i++, t++)
            {
                int position = sequence.NumComputedTokens + i;
                tokenIds[t] = sequence.Tokens[position];
                positions[t] = position;
                tokenSequence[t] = s;
            }
            if (sequence.NumComputedTokens + count == sequence.NumTokens)
            {
                logitRows.Add(t - 1);
                sampledSequences.Add(sequence);
            }
        }
        var logits = model.Forward(new StepBatch(tokenIds, positions, tokenSequence, blockTables, [.. logitRows]));
        int vocab = model.Config.VocabSize;
        var sampled = new SampledToken[sampledSequences.Count];
        for (int i = 0; i < sampled.Length; i++)
        {
            var sequence = sampledSequences[i];
            var (token, logprobs) = Sampler.Sample(logits.AsSpan(i * vocab, vocab), sequence.Sampling, sequence.OutputCounts, sequence.SeenTokens, sequence.Random);
            sampled[i] = new SampledToken(sequence, token, logprobs);
        }
        return sampled;
    }
}

public readonly record struct SampledToken(Sequence Sequence, int Token, TokenLogprobs? Logprobs);
