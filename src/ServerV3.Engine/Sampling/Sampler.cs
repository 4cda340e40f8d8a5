using System.Buffers;
using System.Numerics.Tensors;

namespace ServerV3.Engine.Sampling;

/// <summary>
/// Chooses one token from one row of logits. Processing order (vLLM's): logit_bias; repetition penalty (over
/// prompt and output); frequency and presence penalties (over output); temperature; then top-k, top-p and min-p
/// truncation and a draw from the request's own random stream. Logprobs are the log-softmax after penalties and
/// temperature, before truncation (greedy uses temperature 1 for them).
/// </summary>
public static class Sampler
{
    /// <param name="logits">One row of logits; processed in place.</param>
    /// <param name="tokenCounts">How often each token occurs in the output so far.</param>
    /// <param name="seenTokens">Every token of the prompt and the output (for the repetition penalty).</param>
    public static (int Token, TokenLogprobs? Logprobs) Sample(
        Span<float> logits, SamplingParams p, IReadOnlyDictionary<int, int> tokenCounts, IReadOnlySet<int> seenTokens, Random random)
    {
        Process(logits, p, tokenCounts, seenTokens);
        int token = p.IsGreedy ? ArgMax(logits) : Draw(logits, p, random);
        return (token, Logprobs(logits, token, p));
    }

    /// <summary>logit_bias, penalties and temperature, in place: what logprobs, truncation and draws start from.</summary>
    public static void Process(Span<float> logits, SamplingParams p, IReadOnlyDictionary<int, int> tokenCounts, IReadOnlySet<int> seenTokens)
    {
        ApplyPenalties(logits, p, tokenCounts, seenTokens);
        if (!p.IsGreedy && p.Temperature != 1) TensorPrimitives.Multiply(logits, 1 / p.Temperature, logits);
    }

    /// <summary>The requested logprobs of <paramref name="token"/> under processed logits, or null when none were asked for.</summary>
    public static TokenLogprobs? Logprobs(ReadOnlySpan<float> processed, int token, SamplingParams p)
    {
        if (p.TopLogprobs is not { } top) return null;
        var weights = ArrayPool<double>.Shared.Rent(processed.Length);
        try
        {
            float max = Truncation.Exponentials(processed, weights);
            float logSum = (float)(max + Math.Log(TensorPrimitives.Sum(weights.AsSpan(0, processed.Length))));
            var largest = Truncation.Largest(processed, top);
            var best = new (int, float)[largest.Length];
            for (int i = 0; i < largest.Length; i++) best[i] = (largest[i], processed[largest[i]] - logSum);
            return new TokenLogprobs(processed[token] - logSum, best);
        }
        finally
        {
            ArrayPool<double>.Shared.Return(weights);
        }
    }

    /// <summary>The truncated distribution of processed logits as a dense vector over the vocabulary, into <paramref name="dense"/>.</summary>
    public static void DenseInto(ReadOnlySpan<float> logits, SamplingParams p, Span<double> dense)
    {
        using var survivors = new Truncation.Survivors(logits, p);
        if (survivors.ById)
        {
            survivors.Probabilities.CopyTo(dense);
            return;
        }
        dense[..logits.Length].Clear();
        for (int i = 0; i < survivors.Count; i++) dense[survivors.Token(i)] = survivors.Probabilities[i];
    }

    /// <summary>A token drawn from a dense vector of probabilities (or of weights in proportion to them) with one uniform number of the request's stream.</summary>
    public static int DrawDense(ReadOnlySpan<double> dense, Random random) => Truncation.Pick(dense, random.NextDouble());

    /// <summary>
    /// A token drawn from processed logits: exactly <c>DrawFrom(Truncate(logits, p), random)</c>, over pooled buffers
    /// instead of materialising the distribution (see <see cref="Truncation"/>).
    /// </summary>
    public static int Draw(ReadOnlySpan<float> logits, SamplingParams p, Random random)
    {
        using var survivors = new Truncation.Survivors(logits, p);
        return survivors.Token(Truncation.Pick(survivors.Probabilities, random.NextDouble()));
    }

    /// <summary>Draws from candidates and their probabilities with one uniform number of the request's stream.</summary>
    public static int DrawFrom((int[] Tokens, double[] Probabilities) distribution, Random random) =>
        distribution.Tokens[Truncation.Pick(distribution.Probabilities, random.NextDouble())];

    public static void ApplyPenalties(Span<float> logits, SamplingParams p, IReadOnlyDictionary<int, int> tokenCounts, IReadOnlySet<int> seenTokens)
    {
        foreach (var (id, bias) in p.LogitBias)
            if ((uint)id < (uint)logits.Length) logits[id] += bias;
        if (p.RepetitionPenalty != 1)
        {
            foreach (int id in seenTokens)
                logits[id] = logits[id] > 0 ? logits[id] / p.RepetitionPenalty : logits[id] * p.RepetitionPenalty;
        }
        if (p.FrequencyPenalty != 0 || p.PresencePenalty != 0)
        {
            foreach (var (id, count) in tokenCounts)
                logits[id] -= p.FrequencyPenalty * count + p.PresencePenalty;
        }
    }

    /// <summary>The first id of the largest logit.</summary>
    public static int ArgMax(ReadOnlySpan<float> values) => TensorPrimitives.IndexOfMax(values);

    /// <summary>The tokens that remain after top-k, top-p and min-p, in id order, with their renormalised probabilities.</summary>
    public static (int[] Tokens, double[] Probabilities) Truncate(ReadOnlySpan<float> logits, SamplingParams p)
    {
        using var survivors = new Truncation.Survivors(logits, p);
        var tokens = new int[survivors.Count];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = survivors.Token(i);
        return (tokens, survivors.Probabilities.ToArray());
    }
}
