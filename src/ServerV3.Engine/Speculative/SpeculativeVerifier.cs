using System.Buffers;
using System.Numerics.Tensors;
using ServerV3.Engine.Sampling;
using ServerV3.Engine.Scheduling;

namespace ServerV3.Engine.Speculative;

/// <summary>
/// Turns a sequence's logits rows into its next tokens. Row m holds the main model's logits after the sequence's
/// last token and its first m drafts. Greedy: drafts are accepted while they equal the main model's argmax.
/// Otherwise standard speculative rejection sampling: draft d (drawn from q) is accepted with probability
/// min(1, p(d)/q(d)); on rejection the token is drawn from the normalised max(0, p − q); when every draft is accepted
/// a bonus token is drawn from the last row. p and q are processed identically (bias, penalties over the tokens
/// before them, temperature, top-k/top-p/min-p), so the output distribution is exactly the main model's.
/// Emitted tokens are appended to the sequence as they are decided.
/// </summary>
public static class SpeculativeVerifier
{
    public static (List<(int Token, TokenLogprobs? Logprobs)> Emitted, int Accepted) Verify(Sequence sequence, Span<float> rows, int vocab, AcceptanceRule rule = AcceptanceRule.Exact)
    {
        var p = sequence.Sampling;
        var emitted = new List<(int, TokenLogprobs?)>();
        int drafts = sequence.Drafts.Count;
        for (int m = 0; m <= drafts; m++)
        {
            var row = rows.Slice(m * vocab, vocab);
            Sampler.Process(row, p, sequence.OutputCounts, sequence.SeenTokens);
            int token;
            bool accepted = false;
            if (m == drafts)
            {
                token = p.IsGreedy ? Sampler.ArgMax(row) : Sampler.Draw(row, p, sequence.Random);
            }
            else if (p.IsGreedy)
            {
                token = Sampler.ArgMax(row);
                accepted = token == sequence.Drafts[m] || rule == AcceptanceRule.AlwaysAcceptForTesting;
                if (accepted) token = sequence.Drafts[m];
            }
            else
            {
                var target = ArrayPool<double>.Shared.Rent(vocab);
                try
                {
                    Sampler.DenseInto(row, p, target);
                    var draft = sequence.DraftDistributions[m]!;
                    int d = sequence.Drafts[m];
                    accepted = rule == AcceptanceRule.AlwaysAcceptForTesting || sequence.Random.NextDouble() < Math.Min(1, target[d] / draft[d]);
                    token = accepted ? d : DrawResidual(target.AsSpan(0, vocab), draft.AsSpan(0, vocab), sequence.Random);
                }
                finally
                {
                    ArrayPool<double>.Shared.Return(target);
                }
            }
            emitted.Add((token, Sampler.Logprobs(row, token, p)));
            sequence.Append(token);
            if (!accepted) return (emitted, m);
        }
        return (emitted, drafts);
    }

    /// <summary>A draw from the normalised max(0, p − q), over <paramref name="target"/>'s storage.</summary>
    private static int DrawResidual(Span<double> target, ReadOnlySpan<double> draft, Random random)
    {
        TensorPrimitives.Subtract(target, draft, target);
        TensorPrimitives.Max(target, 0, target);
        return Sampler.DrawDense(target, random);
    }
}

/// <summary>How drafts are judged. Only <see cref="Exact"/> is correct; the other exists so a test can show the distribution test catches a wrong rule.</summary>
public enum AcceptanceRule
{
    Exact,
    AlwaysAcceptForTesting,
}
