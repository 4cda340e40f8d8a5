using ServerV3.Engine.Sampling;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests.Sampling;

/// <summary>Each sampling control against a direct computation on known logits.</summary>
public sealed class SamplerTests
{
    private static readonly float[] Logits = [2.0f, 1.0f, 0.5f, 3.0f, -1.0f, 0.0f, 2.5f, -0.5f];
    private static readonly Dictionary<int, int> NoCounts = [];
    private static readonly HashSet<int> NoneSeen = [];

    private static double[] Softmax(IEnumerable<double> values)
    {
        var v = values.ToArray();
        double max = v.Max();
        var e = v.Select(x => Math.Exp(x - max)).ToArray();
        return e.Select(x => x / e.Sum()).ToArray();
    }

    private static Dictionary<int, double> Distribution(SamplingParams p, float[] logits)
    {
        var processed = logits.ToArray();
        Sampler.ApplyPenalties(processed, p, NoCounts, NoneSeen);
        for (int i = 0; i < processed.Length; i++) processed[i] /= p.Temperature;
        var (tokens, probabilities) = Sampler.Truncate(processed, p);
        return tokens.Zip(probabilities).ToDictionary(x => x.First, x => x.Second);
    }

    /// <summary>Order of logits descending, ties by id: top-k's survivors and the top logprobs' list.</summary>
    [Fact]
    public void LargestOrdersByLogitThenId()
    {
        var random = new Random(9);
        // Few distinct values (many ties), both zeros, negatives and infinities.
        float[] values = [-3.5f, -0f, 0f, 1.25f, 7f, float.NegativeInfinity, float.PositiveInfinity, -1e-30f, 1e-30f];
        var logits = Enumerable.Range(0, 5000).Select(_ => values[random.Next(values.Length)]).ToArray();
        var expected = Enumerable.Range(0, logits.Length).OrderByDescending(id => logits[id]).ThenBy(id => id).ToArray();
        foreach (int count in new[] { 1, 37, 1200, 3000, 5000, 6000 })
        {
            Assert.Equal(expected.Take(count), Truncation.Largest(logits, count));
            Assert.Equal(expected.Take(count).Order(), Sampler.Truncate(logits, new SamplingParams { TopK = count }).Tokens);
        }
    }

    /// <summary>The allocation-free draw gives the token the materialised distribution gives, stream for stream.</summary>
    [Theory]
    [InlineData(0, 1f, 0f)]
    [InlineData(0, 0.9f, 0f)]
    [InlineData(40, 1f, 0f)]
    [InlineData(0, 1f, 0.05f)]
    [InlineData(0, 0.9f, 0.05f)]
    public void DrawMatchesDrawingFromTheTruncatedDistribution(int topK, float topP, float minP)
    {
        var random = new Random(7);
        var p = new SamplingParams { Temperature = 1, TopK = topK, TopP = topP, MinP = minP };
        for (int trial = 0; trial < 200; trial++)
        {
            var logits = Enumerable.Range(0, 1000).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
            int seed = random.Next();
            Assert.Equal(Sampler.DrawFrom(Sampler.Truncate(logits, p), new Random(seed)), Sampler.Draw(logits, p, new Random(seed)));
        }
    }

    /// <summary>
    /// At vocabulary scale, with ties, top-k and top-p keep the prefix a full sort keeps (flat logits leave most of the
    /// vocabulary to top-p, peaked ones a few hundred ids). The cut may move by the float32 softmax's rounding, never further.
    /// </summary>
    [Theory]
    [InlineData(0.5)]
    [InlineData(4.0)]
    public void TruncationAtVocabularyScaleKeepsWhatAFullSortKeeps(double spread)
    {
        var logits = VocabularyLogits(spread, seed: 11);
        var order = Enumerable.Range(0, logits.Length).OrderByDescending(id => logits[id]).ThenBy(id => id).ToArray();
        double max = logits.Max();
        var weights = logits.Select(l => Math.Exp(l - max)).ToArray();
        double total = weights.Sum();
        int Keep(double goal)
        {
            double cumulative = 0;
            int keep = 0;
            while (keep < order.Length && (keep == 0 || cumulative < goal)) cumulative += weights[order[keep++]];
            return keep;
        }
        foreach (float topP in new[] { 0.3f, 0.9f, 0.99f })
        {
            var (tokens, probabilities) = Sampler.Truncate(logits, new SamplingParams { TopP = topP });
            Assert.InRange(tokens.Length, Keep(topP * total * (1 - 1e-5)), Keep(topP * total * (1 + 1e-5)));
            Assert.Equal(order.Take(tokens.Length).Order(), tokens);
            double mass = tokens.Sum(id => weights[id]);
            for (int i = 0; i < tokens.Length; i += 97) Assert.Equal(weights[tokens[i]] / mass, probabilities[i], 1e-6 * probabilities[i]);
        }
        Assert.Equal(order.Take(1000).Order(), Sampler.Truncate(logits, new SamplingParams { TopK = 1000 }).Tokens);
        Assert.Equal(order.Take(1), Sampler.Truncate(logits, new SamplingParams { TopK = 1 }).Tokens);
    }

    /// <summary>The pooled draw and the materialised distribution agree at vocabulary scale too (histogram cut, block walk).</summary>
    [Theory]
    [InlineData(0.5, 1f, 0f)]
    [InlineData(0.5, 0.9f, 0f)]
    [InlineData(4.0, 0.9f, 0f)]
    [InlineData(4.0, 1f, 0.01f)]
    public void DrawMatchesTheTruncatedDistributionAtVocabularyScale(double spread, float topP, float minP)
    {
        var logits = VocabularyLogits(spread, seed: 5);
        var p = new SamplingParams { Temperature = 1, TopP = topP, MinP = minP };
        var distribution = Sampler.Truncate(logits, p);
        for (int seed = 0; seed < 20; seed++)
            Assert.Equal(Sampler.DrawFrom(distribution, new Random(seed)), Sampler.Draw(logits, p, new Random(seed)));
    }

    /// <summary>The block walk: a token of probability zero is never drawn, at either end of [0, 1) or across blocks.</summary>
    [Fact]
    public void PickNeverDrawsAZeroProbability()
    {
        var probabilities = new double[3000];
        probabilities[1] = 0.25;
        probabilities[1500] = 0.5;
        probabilities[2047] = 0.25;
        foreach (double u in new[] { 0.0, 0.1, 0.2499, 0.25, 0.5, 0.7499, 0.75, 0.9, 1 - 1e-16 })
            Assert.Equal(u < 0.25 ? 1 : u < 0.75 ? 1500 : 2047, Truncation.Pick(probabilities, u));
        var last = new double[3000];
        last[^1] = 1;
        Assert.Equal(2999, Truncation.Pick(last, 0));
        Assert.Equal(2999, Truncation.Pick(last, 1 - 1e-16));
    }

    /// <summary>Top logprobs at vocabulary scale are the largest logits, each the log-softmax.</summary>
    [Fact]
    public void TopLogprobsAtVocabularyScale()
    {
        var logits = VocabularyLogits(4.0, seed: 3);
        var logprobs = Sampler.Logprobs(logits, 17, new SamplingParams { TopLogprobs = 5 });
        double max = logits.Max();
        double logSum = max + Math.Log(logits.Sum(l => Math.Exp(l - max)));
        var top = Enumerable.Range(0, logits.Length).OrderByDescending(id => logits[id]).ThenBy(id => id).Take(5).ToArray();
        Assert.NotNull(logprobs);
        Assert.Equal(top, logprobs.Top.Select(t => t.TokenId));
        Assert.Equal(logits[17] - logSum, logprobs.Logprob, 4);
        for (int i = 0; i < 5; i++) Assert.Equal(logits[top[i]] - logSum, logprobs.Top[i].Logprob, 4);
        Assert.Empty(Sampler.Logprobs(logits, 17, new SamplingParams { TopLogprobs = 0 })!.Top);
    }

    /// <summary>DeepSeek-V3's vocabulary of normally distributed logits, with 2,000 repeated values (ties).</summary>
    private static float[] VocabularyLogits(double spread, int seed)
    {
        var random = new Random(seed);
        var logits = new float[129_280];
        for (int i = 0; i < logits.Length; i++)
            logits[i] = (float)(spread * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()));
        for (int i = 0; i < 2000; i++) logits[random.Next(logits.Length)] = logits[random.Next(logits.Length)];
        return logits;
    }

    /// <summary>
    /// A server draws per sequence per step, and per draft with speculation: draws and dense distributions work in
    /// pooled buffers (a top_p 0.9 draw over 129,280 ids once allocated ~3.6 MB, a dense draft distribution 1 MB).
    /// </summary>
    [Theory]
    [InlineData(0, 1f, 0f)]
    [InlineData(0, 0.9f, 0.01f)]
    [InlineData(40, 1f, 0f)]
    public void DrawsAndDenseDistributionsAllocateAlmostNothing(int topK, float topP, float minP)
    {
        var random = new Random(9);
        var logits = Enumerable.Range(0, 129_280).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
        var p = new SamplingParams { Temperature = 1, TopK = topK, TopP = topP, MinP = minP };
        var dense = new double[logits.Length];
        // The first calls fill the pools.
        Sampler.Draw(logits, p, random);
        Sampler.DenseInto(logits, p, dense);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            Sampler.Draw(logits, p, random);
            Sampler.DenseInto(logits, p, dense);
            Sampler.DrawDense(dense, random);
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 16 * 1024, $"{allocated} bytes for 5 draws and dense distributions");
        Assert.Equal(1, dense.Sum(), 9);
    }

    [Fact]
    public void GreedyTakesTheArgmaxAfterBiasAndPenalties()
    {
        var p = new SamplingParams { Temperature = 0, LogitBias = new Dictionary<int, float> { [1] = 5 } };
        Assert.Equal(1, Sampler.Sample(Logits.ToArray(), p, NoCounts, NoneSeen, new Random(0)).Token);
        Assert.Equal(3, Sampler.Sample(Logits.ToArray(), p with { LogitBias = new Dictionary<int, float>() }, NoCounts, NoneSeen, new Random(0)).Token);
    }

    [Fact]
    public void TemperatureScalesTheSoftmax()
    {
        var p = new SamplingParams { Temperature = 0.7f };
        var expected = Softmax(Logits.Select(l => l / 0.7));
        var actual = Distribution(p, Logits);
        for (int i = 0; i < Logits.Length; i++) Assert.Equal(expected[i], actual[i], 6);
    }

    [Fact]
    public void TopKTopPAndMinPKeepTheRightTokens()
    {
        var order = Enumerable.Range(0, Logits.Length).OrderByDescending(i => Logits[i]).ToArray(); // 3, 6, 0, 1, 2, 5, 7, 4
        var full = Softmax(Logits.Select(l => (double)l));
        Assert.Equal(order.Take(3).Order(), Distribution(new SamplingParams { TopK = 3 }, Logits).Keys.Order());
        // top_p: the smallest prefix whose mass reaches p.
        double p = full[3] + full[6] + 0.01;
        Assert.Equal(order.Take(3).Order(), Distribution(new SamplingParams { TopP = (float)p }, Logits).Keys.Order());
        // min_p: tokens with probability at least min_p times the largest.
        var minP = Distribution(new SamplingParams { MinP = 0.3f }, Logits);
        Assert.Equal(Enumerable.Range(0, Logits.Length).Where(i => full[i] >= 0.3 * full[3]).Order(), minP.Keys.Order());
        // What remains is renormalised in proportion to the softmax (computed in float32, as vLLM's sampler does).
        var topK = Distribution(new SamplingParams { TopK = 3 }, Logits);
        double mass = order.Take(3).Sum(i => full[i]);
        foreach (var (token, probability) in topK) Assert.Equal(full[token] / mass, probability, 6);
    }

    [Fact]
    public void PenaltiesFollowOpenAiAndHuggingFace()
    {
        var counts = new Dictionary<int, int> { [3] = 2, [0] = 1 };
        var seen = new HashSet<int> { 3, 0, 4 };
        var p = new SamplingParams { FrequencyPenalty = 0.5f, PresencePenalty = 0.25f, RepetitionPenalty = 1.5f };
        var processed = Logits.ToArray();
        Sampler.ApplyPenalties(processed, p, counts, seen);
        Assert.Equal(3.0f / 1.5f - 0.5f * 2 - 0.25f, processed[3], 5);
        Assert.Equal(2.0f / 1.5f - 0.5f - 0.25f, processed[0], 5);
        Assert.Equal(-1.0f * 1.5f, processed[4], 5);
        Assert.Equal(Logits[1], processed[1]);
    }

    [Fact]
    public void LogprobsAreTheLogSoftmaxOfTheProcessedLogits()
    {
        var p = new SamplingParams { Temperature = 0.8f, TopLogprobs = 3, LogitBias = new Dictionary<int, float> { [2] = 1 }, Seed = 1 };
        var (token, logprobs) = Sampler.Sample(Logits.ToArray(), p, NoCounts, NoneSeen, new Random(1));
        var processed = Logits.Select((l, i) => (l + (i == 2 ? 1.0 : 0)) / 0.8).ToArray();
        var expected = Softmax(processed).Select(x => Math.Log(x)).ToArray();
        Assert.NotNull(logprobs);
        Assert.Equal(expected[token], logprobs.Logprob, 5);
        var top = Enumerable.Range(0, Logits.Length).OrderByDescending(i => expected[i]).Take(3).ToArray();
        Assert.Equal(top, logprobs.Top.Select(t => t.TokenId));
        for (int i = 0; i < 3; i++) Assert.Equal(expected[top[i]], logprobs.Top[i].Logprob, 5);
    }

    [Fact]
    public void DrawsFollowTheDistributionAndSeedsReproduceThem()
    {
        var p = new SamplingParams { Temperature = 1, TopK = 4 };
        var expected = Distribution(p, Logits);
        var random = new Random(42);
        var counts = new Dictionary<int, int>();
        const int draws = 20000;
        for (int i = 0; i < draws; i++)
        {
            int token = Sampler.Sample(Logits.ToArray(), p, NoCounts, NoneSeen, random).Token;
            counts[token] = counts.GetValueOrDefault(token) + 1;
        }
        Assert.Equal(expected.Keys.Order(), counts.Keys.Order());
        foreach (var (token, probability) in expected) Assert.InRange(counts[token] / (double)draws, probability - 0.015, probability + 0.015);
        var first = Enumerable.Range(0, 50).Select(_ => 0).ToArray();
        var a = new Random(7);
        var b = new Random(7);
        Assert.Equal(first.Select(_ => Sampler.Sample(Logits.ToArray(), p, NoCounts, NoneSeen, a).Token), first.Select(_ => Sampler.Sample(Logits.ToArray(), p, NoCounts, NoneSeen, b).Token));
    }
}
