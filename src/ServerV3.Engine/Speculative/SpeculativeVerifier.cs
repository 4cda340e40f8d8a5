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
                var target = Sampler.Dense(Sampler.Truncate(row, p), vocab);
                var draft = sequence.DraftDistributions[m]!;
                int d = sequence.Drafts[m];
                accepted = rule == AcceptanceRule.AlwaysAcceptForTesting || sequence.Random.NextDouble() < Math.Min(1, target[d] / draft[d]);
                token = accepted ? d : DrawResidual(target, draft, sequence.Random);
            }
            emitted.Add((token, Sampler.Logprobs(row, token, p)));
            sequence.Append(token);
            if (!accepted) return (emitted, m);
        }
        return (emitted, drafts);
    }

    /// <summary>A draw from the normalised max(0, p − q).</summary>
    private static int DrawResidual(double[] target, double[] draft, Random random)
    {
        var tokens = new List<int>();
        var weights = new List<double>();
        double total = 0;
        for (int i = 0; i < target.Length; i++)
        {
            double w = target[i] - draft[i];
            if (w <= 0) continue;
            tokens.Add(i);
            weights.Add(w);
            total += w;
        }
        return Sampler.DrawFrom(([.. tokens], weights.Select(w => w / total).ToArray()), random);
    }
}

/// <summary>How drafts are judged. Only <see cref="Exact"/> is correct; the other exists so a test can show the distribution test catches a wrong rule.</summary>
public enum AcceptanceRule
{
    Exact,
    AlwaysAcceptForTesting,
}
