using ILGPU;
using ServerV3.Kernels.Activation;
using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Moe;

/// <summary>
/// DeepSeekMoE routed experts. Routing is noaux_tc (sigmoid scores; biased scores choose the groups and the
/// experts; the unbiased scores of the chosen experts are the weights). The expert MLPs run as grouped GEMMs over
/// assignments sorted by expert: assignment a (token AssignedTokens[a]) belongs to expert e when
/// ExpertOffsets[e] &lt;= a &lt; ExpertOffsets[e + 1].
/// </summary>
public static class MoeKernels
{
    /// <summary>
    /// The MoE gate in one launch: normed[t] = rmsnorm(x[t]), the router's logits[t] = W_router · normed[t], and the
    /// token's experts chosen from them (<see cref="RouteToken"/>). A group per token: its threads normalise the row
    /// and share each expert's dot product (<see cref="LinearKernels.GroupDot"/>), then its first thread routes.
    /// </summary>
    public static void Gate<TWeights>(
        TWeights router, Rows x, ArrayView<float> normWeight, Rows normed, Rows logits, ArrayView<float> bias, Rows scratch, RouteOutput output, GateShape shape)
        where TWeights : struct, IWeightMatrix
    {
        var partials = SharedMemory.Allocate<float>(LinearKernels.DotGroup);
        for (int t = Grid.IdxX; t < shape.Router.Tokens; t += Grid.DimX)
        {
            float inverseRms = NormLinearKernels.InverseRms(x, t, shape.Hidden, shape.Eps, partials);
            for (int c = Group.IdxX; c < shape.Hidden; c += Group.DimX) normed[t, c] = x[t, c] * inverseRms * normWeight[c];
            Group.Barrier(); // every dot product reads the whole normalised row
            for (int e = 0; e < shape.Router.Experts; e++)
            {
                float logit = LinearKernels.GroupDot(router, 0, e, normed, t, shape.Hidden, partials);
                if (Group.IdxX == 0) logits[t, e] = logit;
            }
            if (Group.IdxX == 0) RouteToken(logits, bias, scratch, output, shape.Router, t);
            Group.Barrier(); // the next token's dot products reuse the partials
        }
    }

    /// <summary>
    /// Chooses token t's experts from its gate logits; scratch holds [tokens, experts + groups] floats. Chosen experts
    /// come out in descending biased score.
    /// </summary>
    public static void RouteToken(Rows logits, ArrayView<float> bias, Rows scratch, RouteOutput output, RouterShape shape, int t)
    {
        int perGroup = shape.Experts / shape.Groups;
        for (int e = 0; e < shape.Experts; e++) scratch[t, e] = Sigmoid(logits[t, e]) + bias[e];
        // Group score: the sum of the two largest biased scores in the group.
        for (int g = 0; g < shape.Groups; g++)
        {
            float first = float.NegativeInfinity, second = float.NegativeInfinity;
            for (int e = g * perGroup; e < (g + 1) * perGroup; e++)
            {
                float v = scratch[t, e];
                if (v > first) { second = first; first = v; }
                else if (v > second) second = v;
            }
            scratch[t, shape.Experts + g] = perGroup > 1 ? first + second : first;
        }
        // Keep the best groups (marked +inf), mask every expert of the others.
        for (int k = 0; k < shape.TopKGroups; k++)
        {
            int best = ArgMax(scratch, t, shape.Experts, shape.Experts + shape.Groups, float.PositiveInfinity);
            scratch[t, best] = float.PositiveInfinity;
        }
        for (int g = 0; g < shape.Groups; g++)
        {
            if (scratch[t, shape.Experts + g] == float.PositiveInfinity) continue;
            for (int e = g * perGroup; e < (g + 1) * perGroup; e++) scratch[t, e] = float.NegativeInfinity;
        }
        float weightSum = 0;
        for (int k = 0; k < shape.TopK; k++)
        {
            int expert = ArgMax(scratch, t, 0, shape.Experts, float.NegativeInfinity);
            scratch[t, expert] = float.NegativeInfinity;
            float weight = Sigmoid(logits[t, expert]);
            output.Experts[(long)t * shape.TopK + k] = expert;
            output.Weights[(long)t * shape.TopK + k] = weight;
            weightSum += weight;
        }
        float scale = shape.NormalizeTopK != 0 ? shape.ScalingFactor / weightSum : shape.ScalingFactor;
        for (int k = 0; k < shape.TopK; k++) output.Weights[(long)t * shape.TopK + k] *= scale;
    }

    /// <summary>The index in [begin, end) of the first maximum, ignoring entries equal to <paramref name="skip"/>.</summary>
    private static int ArgMax(Rows values, int t, int begin, int end, float skip)
    {
        int best = -1;
        float bestValue = 0;
        for (int i = begin; i < end; i++)
        {
            float v = values[t, i];
            if (v == skip) continue;
            if (best < 0 || v > bestValue)
            {
                best = i;
                bestValue = v;
            }
        }
        return best;
    }

    public static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    /// <summary>
    /// act[a, r] = silu(gate[e][r] · x[token]) * (up[e][r] · x[token]) for every assignment a of expert e, then the
    /// shared experts' sharedAct[t, r] for every token t; a group per (a, r), assignment-major, sharing the dot
    /// products (<see cref="LinearKernels.GroupDot"/>).
    /// </summary>
    public static void ExpertGateUp<TWeights>(
        TWeights gate, TWeights up, TWeights sharedGate, TWeights sharedUp, Rows x, ExpertAssignments assignments, Rows act, Rows sharedAct,
        ExpertShape shape, SharedShape shared)
        where TWeights : struct, IWeightMatrix
    {
        var partials = SharedMemory.Allocate<float>(LinearKernels.DotGroup);
        int first = assignments.Offsets[0];
        int routed = (assignments.Offsets[shape.Experts] - first) * shape.Intermediate, items = routed + shared.Tokens * shared.Intermediate;
        for (int item = Grid.IdxX; item < items; item += Grid.DimX)
        {
            if (item < routed)
            {
                int a = first + item / shape.Intermediate, row = item % shape.Intermediate;
                int e = ExpertOf(assignments, a, shape.Experts);
                int token = assignments.Tokens[a];
                float g = LinearKernels.GroupDot(gate, e, row, x, token, shape.Hidden, partials);
                float u = LinearKernels.GroupDot(up, e, row, x, token, shape.Hidden, partials);
                if (Group.IdxX == 0) act[a, row] = SwiGluKernels.Silu(g) * u;
            }
            else
            {
                int t = (item - routed) / shared.Intermediate, row = (item - routed) % shared.Intermediate;
                float g = LinearKernels.GroupDot(sharedGate, 0, row, x, t, shape.Hidden, partials);
                float u = LinearKernels.GroupDot(sharedUp, 0, row, x, t, shape.Hidden, partials);
                if (Group.IdxX == 0) sharedAct[t, row] = SwiGluKernels.Silu(g) * u;
            }
        }
    }

    /// <summary>
    /// out[a, r] = down[e][r] · act[a] for every assignment a of expert e, then hidden[t, r] += sharedDown[r] ·
    /// sharedAct[t] for every token t; a group per output element.
    /// </summary>
    public static void ExpertDown<TWeights>(
        TWeights down, TWeights sharedDown, Rows act, Rows sharedAct, ExpertAssignments assignments, Rows output, Rows hidden,
        ExpertShape shape, SharedShape shared)
        where TWeights : struct, IWeightMatrix
    {
        var partials = SharedMemory.Allocate<float>(LinearKernels.DotGroup);
        int first = assignments.Offsets[0];
        int routed = (assignments.Offsets[shape.Experts] - first) * shape.Hidden, items = routed + shared.Tokens * shape.Hidden;
        for (int item = Grid.IdxX; item < items; item += Grid.DimX)
        {
            if (item < routed)
            {
                int a = first + item / shape.Hidden, row = item % shape.Hidden;
                float sum = LinearKernels.GroupDot(down, ExpertOf(assignments, a, shape.Experts), row, act, a, shape.Intermediate, partials);
                if (Group.IdxX == 0) output[a, row] = sum;
            }
            else
            {
                int t = (item - routed) / shape.Hidden, row = (item - routed) % shape.Hidden;
                float sum = LinearKernels.GroupDot(sharedDown, 0, row, sharedAct, t, shared.Intermediate, partials);
                if (Group.IdxX == 0) hidden[t, row] += sum;
            }
        }
    }

    /// <summary>The expert whose assignment range holds assignment <paramref name="a"/>.</summary>
    private static int ExpertOf(ExpertAssignments assignments, int a, int experts)
    {
        int e = 0;
        while (e < experts - 1 && assignments.Offsets[e + 1] <= a) e++;
        return e;
    }

    /// <summary>h[t] += Σ_k weight[t, k] * out[slot of (t, k)], summed in k order; a work item is one h[t, c].</summary>
    public static void Combine(Rows expertOutput, ArrayView<int> choiceSlots, ArrayView<float> weights, Rows hidden, CombineShape shape)
    {
        int items = shape.Tokens * shape.Hidden;
        int end = WorkRange.End(items);
        for (int item = WorkRange.Start(items); item < end; item++)
        {
            int t = item / shape.Hidden, c = item % shape.Hidden;
            float sum = 0;
            for (int k = 0; k < shape.TopK; k++)
            {
                long choice = (long)t * shape.TopK + k;
                sum += weights[choice] * expertOutput[choiceSlots[choice], c];
            }
            hidden[t, c] += sum;
        }
    }
}

public readonly struct RouteOutput(ArrayView<int> experts, ArrayView<float> weights)
{
    public ArrayView<int> Experts { get; } = experts;
    public ArrayView<float> Weights { get; } = weights;
}

public readonly struct ExpertAssignments(ArrayView<int> offsets, ArrayView<int> tokens)
{
    public ArrayView<int> Offsets { get; } = offsets;
    public ArrayView<int> Tokens { get; } = tokens;
}

public readonly record struct RouterShape(
    int Tokens, int Experts, int Groups, int TopKGroups, int TopK, int NormalizeTopK, float ScalingFactor);

/// <summary>The router's shape and the RMSNorm before it (over Hidden features).</summary>
public readonly record struct GateShape(RouterShape Router, int Hidden, float Eps);

public readonly record struct ExpertShape(int Experts, int Hidden, int Intermediate);

public readonly record struct CombineShape(int Tokens, int Hidden, int TopK);
