using ILGPU;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Gemm;

/// <summary>
/// y[t, r] = W[r, :] · rmsnorm(x[t]) in one launch, and optionally normed[t] = rmsnorm(x[t]) for the layer's other
/// readers: RMSNorm fused into the projection that follows it. A group owns one output element as in
/// <see cref="LinearKernels.Linear"/> and first takes its token's sum of squares itself, so no group waits for
/// another; normed must not overlap x.
/// </summary>
public static class NormLinearKernels
{
    public static void NormLinear<TWeights>(TWeights weights, Rows x, ArrayView<float> normWeight, Rows normed, Rows y, NormLinearShape shape)
        where TWeights : struct, IWeightMatrix
    {
        var partials = SharedMemory.Allocate<float>(LinearKernels.DotGroup);
        int items = shape.Tokens * shape.OutFeatures;
        for (int item = Grid.IdxX; item < items; item += Grid.DimX)
        {
            int t = item / shape.OutFeatures, row = item % shape.OutFeatures;
            float squares = 0;
            for (int c = Group.IdxX; c < shape.InFeatures; c += Group.DimX)
            {
                float v = x[t, c];
                squares += v * v;
            }
            float inverseRms = 1f / MathF.Sqrt(GroupSum.Of(squares, partials) / shape.InFeatures + shape.Eps);
            float sum = 0;
            for (int c = Group.IdxX; c < shape.InFeatures; c += Group.DimX) sum += weights.Get(0, row, c) * (x[t, c] * inverseRms * normWeight[c]);
            sum = GroupSum.Of(sum, partials);
            if (Group.IdxX == 0) y[t, row] = sum;
            if (shape.WriteNormed != 0 && row == 0)
                for (int c = Group.IdxX; c < shape.InFeatures; c += Group.DimX) normed[t, c] = x[t, c] * inverseRms * normWeight[c];
        }
    }
}

/// <param name="WriteNormed">1: also write rmsnorm(x) to the normed rows.</param>
public readonly record struct NormLinearShape(int Tokens, int InFeatures, int OutFeatures, float Eps, int WriteNormed);
