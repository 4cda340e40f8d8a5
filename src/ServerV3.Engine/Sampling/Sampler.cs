using System.Buffers;

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
        if (!p.IsGreedy && p.Temperature != 1)
        {
            float inverse = 1 / p.Temperature;
            for (int i = 0; i < logits.Length; i++) logits[i] *= inverse;
        }
    }

    /// <summary>The requested logprobs of <paramref name="token"/> under processed logits, or null when none were asked for.</summary>
    public static TokenLogprobs? Logprobs(ReadOnlySpan<float> processed, int token, SamplingParams p)
    {
        if (p.TopLogprobs is not { } top) return null;
        var logSoftmax = LogSoftmax(processed);
        var best = Enumerable.Range(0, logSoftmax.Length).OrderByDescending(i => logSoftmax[i]).ThenBy(i => i).Take(top)
            .Select(i => (i, logSoftmax[i])).ToArray();
        return new TokenLogprobs(logSoftmax[token], best);
    }

    /// <summary>The truncated distribution of processed logits as a dense vector over the vocabulary.</summary>
    public static double[] Dense((int[] Tokens, double[] Probabilities) truncated, int vocab)
    {
        var dense = new double[vocab];
        for (int i = 0; i < truncated.Tokens.Length; i++) dense[truncated.Tokens[i]] = truncated.Probabilities[i];
        return dense;
    }

    /// <summary>
    /// A token drawn from processed logits: exactly <c>DrawFrom(Truncate(logits, p), random)</c>, but over pooled
    /// buffers instead of materialising the distribution: without top-k, top-p or min-p (the OpenAI default) it walks
    /// the vocabulary in id order; with top-p or min-p it orders and truncates in place (<see cref="DrawTruncated"/>).
    /// Top-k keeps k candidates, so its arrays are small.
    /// </summary>
    public static int Draw(ReadOnlySpan<float> logits, SamplingParams p, Random random)
    {
        if (p.TopK > 0 && p.TopK < logits.Length) return DrawFrom(Truncate(logits, p), random);
        if (p.TopP < 1 || p.MinP > 0) return DrawTruncated(logits, p, random);
        double max = double.NegativeInfinity;
        foreach (float v in logits) max = Math.Max(max, v);
        var probabilities = ArrayPool<double>.Shared.Rent(logits.Length);
        try
        {
            // The same operations in the same order as Truncate and DrawFrom, so the same token for the same stream.
            double total = 0, mass = 0;
            for (int i = 0; i < logits.Length; i++) total += probabilities[i] = Math.Exp(logits[i] - max);
            for (int i = 0; i < logits.Length; i++) mass += probabilities[i] /= total;
            double u = random.NextDouble(), cumulative = 0;
            for (int i = 0; i < logits.Length; i++)
            {
                cumulative += probabilities[i] / mass;
                if (u < cumulative) return i;
            }
            return logits.Length - 1;
        }
        finally
        {
            ArrayPool<double>.Shared.Return(probabilities);
        }
    }

    /// <summary>
    /// Top-p and min-p truncation and the draw, with <see cref="Truncate"/>'s and <see cref="DrawFrom"/>'s operations in
    /// the same order (the same token for the same stream) over two pooled vocabulary-sized buffers: a top_p 0.9 draw
    /// over 129,280 ids allocated ~3.6 MB through Truncate.
    /// </summary>
    private static int DrawTruncated(ReadOnlySpan<float> logits, SamplingParams p, Random random)
    {
        int n = logits.Length;
        var order = ArrayPool<int>.Shared.Rent(n);
        var probabilities = ArrayPool<double>.Shared.Rent(n);
        try
        {
            if (p.TopP < 1) Descending(logits, order.AsSpan(0, n));
            else for (int id = 0; id < n; id++) order[id] = id;
            double max = double.NegativeInfinity;
            for (int i = 0; i < n; i++) max = Math.Max(max, logits[order[i]]);
            double total = 0;
            for (int i = 0; i < n; i++) total += probabilities[i] = Math.Exp(logits[order[i]] - max);
            for (int i = 0; i < n; i++) probabilities[i] /= total;
            int keep = n;
            if (p.TopP < 1)
            {
                double cumulative = 0;
                int count = 0;
                while (count < keep && (count == 0 || cumulative < p.TopP)) cumulative += probabilities[count++];
                keep = count;
            }
            bool minP = p.MinP > 0;
            double threshold = 0;
            if (minP)
            {
                double largest = double.NegativeInfinity;
                for (int i = 0; i < keep; i++) largest = Math.Max(largest, probabilities[i]);
                threshold = p.MinP * largest;
            }
            double mass = 0;
            for (int i = 0; i < keep; i++)
                if (!minP || probabilities[i] >= threshold) mass += probabilities[i];
            double u = random.NextDouble(), drawn = 0;
            int last = order[0];
            for (int i = 0; i < keep; i++)
            {
                if (minP && !(probabilities[i] >= threshold)) continue;
                drawn += probabilities[i] / mass;
                last = order[i];
                if (u < drawn) return last;
            }
            return last;
        }
        finally
        {
            ArrayPool<int>.Shared.Return(order);
            ArrayPool<double>.Shared.Return(probabilities);
        }
    }

    /// <summary>Draws from candidates and their probabilities with one uniform number of the request's stream.</summary>
    public static int DrawFrom((int[] Tokens, double[] Probabilities) distribution, Random random)
    {
        double u = random.NextDouble(), cumulative = 0;
        for (int i = 0; i < distribution.Tokens.Length; i++)
        {
            cumulative += distribution.Probabilities[i];
            if (u < cumulative) return distribution.Tokens[i];
        }
        return distribution.Tokens[^1];
    }

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

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    public static float[] LogSoftmax(ReadOnlySpan<float> logits)
    {
        float max = float.NegativeInfinity;
        foreach (float v in logits) max = MathF.Max(max, v);
        double sum = 0;
        foreach (float v in logits) sum += Math.Exp(v - max);
        float logSum = max + (float)Math.Log(sum);
        var result = new float[logits.Length];
        for (int i = 0; i < logits.Length; i++) result[i] = logits[i] - logSum;
        return result;
    }

    /// <summary>
    /// The tokens that remain after top-k, top-p and min-p with their renormalised probabilities. Candidates are in
    /// descending logit order (ties by id) when top-k or top-p needs an order, else in id order.
    /// </summary>
    public static (int[] Tokens, double[] Probabilities) Truncate(ReadOnlySpan<float> logits, SamplingParams p)
    {
        int[] candidates = p.TopK > 0 && p.TopK < logits.Length ? Largest(logits, p.TopK)
            : p.TopP < 1 ? Descending(logits)
            : Enumerable.Range(0, logits.Length).ToArray();
        double max = double.NegativeInfinity;
        foreach (int id in candidates) max = Math.Max(max, logits[id]);
        var probabilities = new double[candidates.Length];
        double total = 0;
        for (int i = 0; i < candidates.Length; i++) total += probabilities[i] = Math.Exp(logits[candidates[i]] - max);
        for (int i = 0; i < candidates.Length; i++) probabilities[i] /= total;
        int keep = candidates.Length;
        if (p.TopP < 1)
        {
            // The smallest prefix whose mass reaches top_p (at least one token).
            double cumulative = 0;
            int count = 0;
            while (count < keep && (count == 0 || cumulative < p.TopP)) cumulative += probabilities[count++];
            keep = count;
        }
        var kept = Enumerable.Range(0, keep);
        if (p.MinP > 0)
        {
            double threshold = p.MinP * probabilities.AsSpan(0, keep).ToArray().Max();
            kept = kept.Where(i => probabilities[i] >= threshold);
        }
        var indices = kept.ToArray();
        double mass = indices.Sum(i => probabilities[i]);
        return (indices.Select(i => candidates[i]).ToArray(), indices.Select(i => probabilities[i] / mass).ToArray());
    }

    /// <summary>
    /// Every id in descending logit order, ties by id (top-p needs the whole order): a stable two-pass radix sort of
    /// the logits' bits made order-preserving, over ids that start in ascending order. At 129,280 ids a top-p draw
    /// took 27 ms with the top-k heap over the whole vocabulary.
    /// </summary>
    public static int[] Descending(ReadOnlySpan<float> logits)
    {
        var order = new int[logits.Length];
        Descending(logits, order);
        return order;
    }

    /// <summary><see cref="Descending(ReadOnlySpan{float})"/> into <paramref name="order"/>, with pooled scratch.</summary>
    public static void Descending(ReadOnlySpan<float> logits, Span<int> order)
    {
        int n = logits.Length;
        var keyBuffer = ArrayPool<uint>.Shared.Rent(2 * n);
        var idBuffer = ArrayPool<int>.Shared.Rent(n);
        var counts = ArrayPool<int>.Shared.Rent(1 << 16);
        try
        {
            Span<uint> keys = keyBuffer.AsSpan(0, n), sortedKeys = keyBuffer.AsSpan(n, n);
            Span<int> ids = order, sortedIds = idBuffer.AsSpan(0, n);
            for (int id = 0; id < n; id++)
            {
                // -0 and +0 compare equal as logits, so they must tie (and fall back to the id) here too.
                uint bits = BitConverter.SingleToUInt32Bits(logits[id] == 0 ? 0f : logits[id]);
                keys[id] = ~((bits & 0x8000_0000) != 0 ? ~bits : bits | 0x8000_0000); // ascending key = descending logit
                ids[id] = id;
            }
            // Two passes: the sorted ids end up back in order.
            for (int shift = 0; shift < 32; shift += 16)
            {
                var count = counts.AsSpan(0, 1 << 16);
                count.Clear();
                foreach (uint key in keys) count[(int)((key >> shift) & 0xFFFF)]++;
                for (int d = 0, start = 0; d < count.Length; d++) (count[d], start) = (start, start + count[d]);
                for (int i = 0; i < n; i++)
                {
                    int slot = count[(int)((keys[i] >> shift) & 0xFFFF)]++;
                    sortedKeys[slot] = keys[i];
                    sortedIds[slot] = ids[i];
                }
                var swappedKeys = keys;
                keys = sortedKeys;
                sortedKeys = swappedKeys;
                var swappedIds = ids;
                ids = sortedIds;
                sortedIds = swappedIds;
            }
        }
        finally
        {
            ArrayPool<uint>.Shared.Return(keyBuffer);
            ArrayPool<int>.Shared.Return(idBuffer);
            ArrayPool<int>.Shared.Return(counts);
        }
    }

    /// <summary>The ids of the <paramref name="count"/> largest logits, descending, ties by id.</summary>
    private static int[] Largest(ReadOnlySpan<float> logits, int count)
    {
        // A min-heap of the best so far: O(V log k).
        var heap = new PriorityQueue<int, (float Logit, int NegativeId)>(count);
        for (int id = 0; id < logits.Length; id++)
        {
            var key = (logits[id], -id);
            if (heap.Count < count) heap.Enqueue(id, key);
            else if (Comparer<(float, int)>.Default.Compare(key, heap.Peek() is var top ? (logits[top], -top) : default) > 0) heap.EnqueueDequeue(id, key);
        }
        var result = new int[heap.Count];
        for (int i = result.Length - 1; i >= 0; i--) result[i] = heap.Dequeue();
        return result;
    }
}
