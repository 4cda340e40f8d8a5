using System.Runtime.CompilerServices;
using ILGPU.Frontend;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Moe;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// noaux_tc routing of <see cref="MoeKernels.RouteToken"/> over raw pointers, with its operations in its order (the
/// same experts and weights bit for bit). Run by ILGPU's CPU backend the portable version cost ~12 us a token for
/// 32 experts (bench-small's prefill of 512 tokens: 23-37 ms in the gate); DeepSeek-V3's 256 experts make it 8x that.
/// </summary>
internal static unsafe class CpuRouter
{
    [External("serverv3_route_rows_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RouteRows(Rows logits, ILGPU.ArrayView<float> bias, Rows scratch, RouteOutput output, RouterShape shape, int start, int end)
    {
        float* b = CpuPointers.Of(bias);
        int* experts = CpuPointers.Of(output.Experts);
        float* weights = CpuPointers.Of(output.Weights);
        int perGroup = shape.Experts / shape.Groups;
        for (int t = start; t < end; t++)
        {
            float* logit = CpuPointers.Of(logits.Data) + logits.Offset + (long)t * logits.Stride;
            float* score = CpuPointers.Of(scratch.Data) + scratch.Offset + (long)t * scratch.Stride;
            float* groupScore = score + shape.Experts;
            for (int e = 0; e < shape.Experts; e++) score[e] = MoeKernels.Sigmoid(logit[e]) + b[e];
            for (int g = 0; g < shape.Groups; g++)
            {
                float first = float.NegativeInfinity, second = float.NegativeInfinity;
                for (int e = g * perGroup; e < (g + 1) * perGroup; e++)
                {
                    float v = score[e];
                    if (v > first) { second = first; first = v; }
                    else if (v > second) second = v;
                }
                groupScore[g] = perGroup > 1 ? first + second : first;
            }
            for (int k = 0; k < shape.TopKGroups; k++) groupScore[ArgMax(groupScore, shape.Groups, float.PositiveInfinity)] = float.PositiveInfinity;
            for (int g = 0; g < shape.Groups; g++)
            {
                if (groupScore[g] == float.PositiveInfinity) continue;
                for (int e = g * perGroup; e < (g + 1) * perGroup; e++) score[e] = float.NegativeInfinity;
            }
            int* chosen = experts + (long)t * shape.TopK;
            float* chosenWeights = weights + (long)t * shape.TopK;
            float weightSum = 0;
            for (int k = 0; k < shape.TopK; k++)
            {
                int expert = ArgMax(score, shape.Experts, float.NegativeInfinity);
                score[expert] = float.NegativeInfinity;
                float weight = MoeKernels.Sigmoid(logit[expert]);
                chosen[k] = expert;
                chosenWeights[k] = weight;
                weightSum += weight;
            }
            float scale = shape.NormalizeTopK != 0 ? shape.ScalingFactor / weightSum : shape.ScalingFactor;
            for (int k = 0; k < shape.TopK; k++) chosenWeights[k] *= scale;
        }
    }

    /// <summary>The index of the first maximum of values[0, count), ignoring entries equal to <paramref name="skip"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static int ArgMax(float* values, int count, float skip)
    {
        int best = -1;
        float bestValue = 0;
        for (int i = 0; i < count; i++)
        {
            float v = values[i];
            if (v == skip) continue;
            if (best < 0 || v > bestValue)
            {
                best = i;
                bestValue = v;
            }
        }
        return best;
    }
}
