using ILGPU;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Norm;

/// <summary>y[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w. x and y may alias.</summary>
public static class RmsNormKernels
{
    public static void RmsNorm(Rows x, Rows y, ArrayView<float> weight, int tokens, int dim, float eps)
    {
        int end = WorkRange.End(tokens);
        for (int t = WorkRange.Start(tokens); t < end; t++) NormalizeRow(x, y, weight, t, dim, eps);
    }

    public static void NormalizeRow(Rows x, Rows y, ArrayView<float> weight, int t, int dim, float eps)
    {
        float sumSquares = 0;
        for (int c = 0; c < dim; c++)
        {
            float v = x[t, c];
            sumSquares += v * v;
        }
        float inverseRms = 1f / MathF.Sqrt(sumSquares / dim + eps);
        for (int c = 0; c < dim; c++) y[t, c] = x[t, c] * inverseRms * weight[c];
    }
}
