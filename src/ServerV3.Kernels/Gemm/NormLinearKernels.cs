using ILGPU;
using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Gemm;

/// <summary>
/// y[t, r] = W[r, :] · rmsnorm(x[t]) and, for a second projection of the same normalised rows (MLA's q_a and kv_a),
/// y2[t, r] = W2[r, :] · rmsnorm(x[t]), in one launch: RMSNorm fused into the projections that follow it. A group owns one output element as in
/// <see cref="LinearKernels.Linear"/> and first takes its token's sum of squares itself, so no group waits for
/// another. The step's latent cache write, which needs none of this, can ride in the
/// same launch (a group per token after the projections' groups).
/// </summary>
public static class NormLinearKernels
{
    public static void NormLinear<TWeights>(
        TWeights weights, TWeights second, Rows x, ArrayView<float> normWeight, Rows y, Rows y2, LatentCacheWrite latent, NormLinearShape shape)
        where TWeights : struct, IWeightMatrix
    {
        var partials = SharedMemory.Allocate<float>(LinearKernels.DotGroup);
        int outputs = shape.OutFeatures + shape.SecondOutFeatures, projections = shape.Tokens * outputs;
        int items = projections + latent.Shape.Tokens;
        for (int item = Grid.IdxX; item < items; item += Grid.DimX)
        {
            if (item >= projections)
            {
                if (Group.IdxX == 0) MlaKernels.WriteLatentToken(latent, item - projections);
                continue;
            }
            int t = item / outputs, row = item % outputs;
            float inverseRms = InverseRms(x, t, shape.InFeatures, shape.Eps, partials);
            bool first = row < shape.OutFeatures;
            int weightRow = first ? row : row - shape.OutFeatures;
            float sum = first
                ? NormalizedDot(weights, weightRow, x, t, inverseRms, normWeight, shape.InFeatures, partials)
                : NormalizedDot(second, weightRow, x, t, inverseRms, normWeight, shape.InFeatures, partials);
            if (Group.IdxX == 0)
            {
                if (first) y[t, weightRow] = sum;
                else y2[t, weightRow] = sum;
            }
        }
    }

    /// <summary>1 / sqrt(mean(x[t]^2) + eps), shared by the group (every thread must call it).</summary>
    public static float InverseRms(Rows x, int t, int length, float eps, ArrayView<float> partials)
    {
        float squares = 0;
        for (int c = Group.IdxX; c < length; c += Group.DimX)
        {
            float v = x[t, c];
            squares += v * v;
        }
        return 1f / MathF.Sqrt(GroupSum.Of(squares, partials) / length + eps);
    }

    /// <summary>W[row] · rmsnorm(x[t]) with the row normalised on the fly as RMSNorm writes it, shared by the group (every thread must call it).</summary>
    public static float NormalizedDot<TWeights>(
        TWeights weights, int row, Rows x, int t, float inverseRms, ArrayView<float> normWeight, int length, ArrayView<float> partials)
        where TWeights : struct, IWeightMatrix
    {
        float sum = 0;
        for (int c = Group.IdxX; c < length; c += Group.DimX) sum += weights.Get(0, row, c) * (x[t, c] * inverseRms * normWeight[c]);
        return GroupSum.Of(sum, partials);
    }
}

/// <param name="SecondOutFeatures">Rows of the second projection (0: none).</param>
public readonly record struct NormLinearShape(int Tokens, int InFeatures, int OutFeatures, int SecondOutFeatures, float Eps);
