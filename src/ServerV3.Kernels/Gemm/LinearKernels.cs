using ILGPU;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Gemm;

/// <summary>y[t, r] (+)= W[matrix][r, :] · x[t, :]. Threads own output rows, so each weight row is read once per launch.</summary>
public static class LinearKernels
{
    public static void Linear<TWeights>(TWeights weights, int matrix, Rows x, Rows y, LinearShape shape)
        where TWeights : struct, IWeightMatrix
    {
        int end = WorkRange.End(shape.OutFeatures);
        for (int row = WorkRange.Start(shape.OutFeatures); row < end; row++)
        {
            for (int t = 0; t < shape.Tokens; t++)
            {
                float sum = Dot(weights, matrix, row, x, t, shape.InFeatures);
                y[t, row] = shape.Accumulate != 0 ? y[t, row] + sum : sum;
            }
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
