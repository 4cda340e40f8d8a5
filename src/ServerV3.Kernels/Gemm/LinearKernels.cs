using ILGPU;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Gemm;

/// <summary>
/// y[t, r] (+)= W[matrix][r, :] · x[t, :]. A work item is one output element (token-major, so neighbouring GPU
/// threads read neighbouring weight rows against the same activations); each is one fixed-order dot product.
/// </summary>
public static class LinearKernels
{
    public static void Linear<TWeights>(TWeights weights, int matrix, Rows x, Rows y, LinearShape shape)
        where TWeights : struct, IWeightMatrix
    {
        int items = shape.Tokens * shape.OutFeatures;
        int end = WorkRange.End(items);
        for (int item = WorkRange.Start(items); item < end; item++)
        {
            int t = item / shape.OutFeatures, row = item % shape.OutFeatures;
            float sum = Dot(weights, matrix, row, x, t, shape.InFeatures);
            y[t, row] = shape.Accumulate != 0 ? y[t, row] + sum : sum;
        }
    }

    /// <summary>A fixed-order fp32 dot product of weight row <paramref name="row"/> with activation row <paramref name="token"/>.</summary>
    public static float Dot<TWeights>(TWeights weights, int matrix, int row, Rows x, int token, int length)
        where TWeights : struct, IWeightMatrix
    {
        float sum = 0;
        for (int c = 0; c < length; c++) sum += weights.Get(matrix, row, c) * x[token, c];
        return sum;
    }
}

public readonly record struct LinearShape(int Tokens, int InFeatures, int OutFeatures, int Accumulate);
