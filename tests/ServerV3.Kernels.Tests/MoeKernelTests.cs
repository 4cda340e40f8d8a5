using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Moe;
using ServerV3.Kernels.Weights;
using ServerV3.Kernels.Numerics;

namespace ServerV3.Kernels.Tests;

/// <summary>The gate (RMSNorm, router, noaux_tc routing) and the grouped expert GEMMs (with the shared experts) and their combine.</summary>
public abstract class MoeKernelTests(KernelTestDevice device)
{
    protected abstract KernelSet Kernels { get; }

    private protected KernelTestDevice Device => device;

    [Collection(KernelDeviceCollection.Name)]
    public sealed class CpuBodies(KernelTestDevice device) : MoeKernelTests(device)
    {
        protected override KernelSet Kernels => Device.Cpu;
    }

    [Collection(KernelDeviceCollection.Name)]
    public sealed class PortableBodies(KernelTestDevice device) : MoeKernelTests(device)
    {
        protected override KernelSet Kernels => Device.Portable;
    }

    [Collection(KernelDeviceCollection.Name)]
    public sealed class GpuShapedPortableBodies(KernelTestDevice device) : MoeKernelTests(device)
    {
        protected override KernelSet Kernels => Device.GpuShaped;
    }

    [Theory]
    [InlineData(16, 4, 2, 4, true)]
    [InlineData(8, 2, 1, 2, true)]
    [InlineData(12, 1, 1, 3, false)]
    public void GateNormalisesScoresAndChoosesBiasedGroupsAndExpertsWeighedByUnbiasedScores(int experts, int groups, int topGroups, int topK, bool normalize)
    {
        var random = new Random(20 + experts);
        const int tokens = 9, hidden = 48;
        const float scaling = 2.5f;
        var (router, routerValues) = device.RandomWeights(random, WeightFormat.Bf16, 1, experts, hidden);
        var x = KernelTestDevice.RandomValues(random, tokens * hidden, 3);
        var norm = KernelTestDevice.RandomValues(random, hidden);
        var bias = KernelTestDevice.RandomValues(random, experts, 0.5f);
        var normed = device.Poisoned(tokens * hidden);
        var chosen = device.Upload(new int[tokens * topK]);
        var weights = device.Poisoned(tokens * topK);

        Kernels.Gate(new Rows(device.Upload(x), hidden), device.Upload(norm), 1e-6f, new Rows(normed, hidden), router,
            new Rows(device.Poisoned(tokens * experts), experts), device.Upload(bias), new Rows(device.Poisoned(tokens * (experts + groups)), experts + groups),
            new RouteOutput(chosen, weights), new RouterShape(tokens, experts, groups, topGroups, topK, normalize ? 1 : 0, scaling));

        var expectedNormed = Enumerable.Range(0, tokens).SelectMany(t => Reference.RmsNorm(x.AsSpan(t * hidden, hidden), norm, 1e-6f)).ToArray();
        Assert.True(RelativeError.L2(KernelTestDevice.Download(normed), expectedNormed) < 1e-6);
        var logits = Reference.MatMul(routerValues, experts, hidden, expectedNormed, tokens);
        var actualExperts = KernelTestDevice.Download(chosen);
        var actualWeights = KernelTestDevice.Download(weights);
        int perGroup = experts / groups;
        for (int t = 0; t < tokens; t++)
        {
            var scores = Enumerable.Range(0, experts).Select(e => Reference.Sigmoid(logits[t * experts + e])).ToArray();
            var biased = scores.Select((s, e) => (double)s + bias[e]).ToArray();
            var keptGroups = Enumerable.Range(0, groups)
                .OrderByDescending(g => biased.Skip(g * perGroup).Take(perGroup).OrderDescending().Take(Math.Min(2, perGroup)).Sum()).Take(topGroups).ToHashSet();
            var expected = Enumerable.Range(0, experts).Where(e => keptGroups.Contains(e / perGroup)).OrderByDescending(e => biased[e]).Take(topK).ToArray();
            Assert.Equal(expected, actualExperts.AsSpan(t * topK, topK).ToArray());
            double sum = expected.Sum(e => (double)scores[e]);
            var expectedWeights = expected.Select(e => (float)(scores[e] * scaling / (normalize ? sum : 1))).ToArray();
            Assert.True(RelativeError.L2(actualWeights.AsSpan(t * topK, topK), expectedWeights) < 1e-5);
        }
    }

    /// <param name="sharedWidth">Rows of a shared expert run in the same launches (0: none); 36 differs from the routed width.</param>
    /// <param name="combineInDown">The combine goes with the down projection (fused on the CPU) instead of its own launch.</param>
    [Theory]
    [InlineData(WeightFormat.Bf16, 0, false)]
    [InlineData(WeightFormat.Bf16, 36, true)]
    [InlineData(WeightFormat.Fp8Block, 36, false)]
    [InlineData(WeightFormat.Fp8Block, 0, true)]
    public void GroupedExpertsAndCombineMatchAPerTokenReference(WeightFormat format, int sharedWidth, bool combineInDown)
    {
        var random = new Random(30);
        const int experts = 5, hidden = 40, width = 24, tokens = 5, topK = 2;
        var (sharedGate, sharedGateValues) = device.RandomWeights(random, format, 1, Math.Max(sharedWidth, 1), hidden);
        var (sharedUp, sharedUpValues) = device.RandomWeights(random, format, 1, Math.Max(sharedWidth, 1), hidden);
        var (sharedDown, sharedDownValues) = device.RandomWeights(random, format, 1, hidden, Math.Max(sharedWidth, 1));
        var (gate, gateValues) = device.RandomWeights(random, format, experts, width, hidden);
        var (up, upValues) = device.RandomWeights(random, format, experts, width, hidden);
        var (down, downValues) = device.RandomWeights(random, format, experts, hidden, width);
        var x = KernelTestDevice.RandomValues(random, tokens * hidden);
        var residual = KernelTestDevice.RandomValues(random, tokens * hidden);
        // Expert 3 gets no tokens: the CPU launches hand out work by active expert.
        int[] choices = [2, 0, 1, 2, 2, 4, 0, 1, 4, 2];
        var choiceWeights = KernelTestDevice.RandomValues(random, tokens * topK);
        // Counting sort of the choices by expert.
        var offsets = new int[experts + 1];
        foreach (int e in choices) offsets[e + 1]++;
        for (int e = 0; e < experts; e++) offsets[e + 1] += offsets[e];
        var next = offsets.ToArray();
        var assignedTokens = new int[choices.Length];
        var slots = new int[choices.Length];
        for (int i = 0; i < choices.Length; i++)
        {
            slots[i] = next[choices[i]]++;
            assignedTokens[slots[i]] = i / topK;
        }
        var assignments = new ExpertAssignments(device.Upload(offsets), device.Upload(assignedTokens));
        var act = device.Poisoned(choices.Length * width);
        var expertOut = device.Poisoned(choices.Length * hidden);
        var hiddenState = device.Upload(residual.ToArray());
        var shape = new ExpertShape(experts, hidden, width);
        var work = new ExpertWork(choices.Length, choices.Distinct().Count());

        SharedExperts? shared = sharedWidth == 0 ? null : new SharedExperts(sharedGate, sharedUp, sharedDown, new Rows(device.Poisoned(tokens * sharedWidth), sharedWidth),
            new Rows(device.Poisoned(tokens * sharedWidth), sharedWidth), new Rows(hiddenState, hidden), tokens);

        Kernels.ExpertGateUp(gate, up, new Rows(device.Upload(x), hidden), assignments, new Rows(act, width), new Rows(device.Poisoned(choices.Length * width), width), shape, work, shared);
        var combine = new RoutedCombine(new Rows(expertOut, hidden), device.Upload(slots), device.Upload(choiceWeights), new Rows(hiddenState, hidden),
            new CombineShape(tokens, hidden, topK));
        Kernels.ExpertDown(down, new Rows(act, width), assignments, new Rows(expertOut, hidden), shape, work, shared, combineInDown ? combine : null);
        if (!combineInDown) Kernels.Combine(combine.ExpertOutput, combine.ChoiceSlots, combine.Weights, combine.Hidden, combine.Shape);

        var expected = residual.ToArray();
        static float[] Mlp(float[] gate, float[] up, float[] down, int rows, int hidden, ReadOnlySpan<float> x)
        {
            var g = Reference.MatMul(gate, rows, hidden, x, 1);
            var u = Reference.MatMul(up, rows, hidden, x, 1);
            return Reference.MatMul(down, hidden, rows, g.Select((v, i) => Reference.Silu(v) * u[i]).ToArray(), 1);
        }
        for (int t = 0; t < tokens && sharedWidth > 0; t++)
        {
            var y = Mlp(sharedGateValues, sharedUpValues, sharedDownValues, sharedWidth, hidden, x.AsSpan(t * hidden, hidden));
            for (int c = 0; c < hidden; c++) expected[t * hidden + c] += y[c];
        }
        for (int t = 0; t < tokens; t++)
            for (int k = 0; k < topK; k++)
            {
                int e = choices[t * topK + k];
                var y = Mlp(gateValues.AsSpan(e * width * hidden, width * hidden).ToArray(), upValues.AsSpan(e * width * hidden, width * hidden).ToArray(),
                    downValues.AsSpan(e * hidden * width, hidden * width).ToArray(), width, hidden, x.AsSpan(t * hidden, hidden));
                for (int c = 0; c < hidden; c++) expected[t * hidden + c] += choiceWeights[t * topK + k] * y[c];
            }
        Assert.True(RelativeError.L2(KernelTestDevice.Download(hiddenState), expected) < 1e-5);
    }
}
