using ILGPU;
using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Activation;

/// <summary>
/// The fused first half of a SwiGLU MLP: act[t, r] = silu(gate[r] · x[t]) * (up[r] · x[t]), one output element
/// per work item (token-major, as in <see cref="LinearKernels.Linear"/>).
/// </summary>
public static class SwiGluKernels
{
    public static void GateUp<TWeights>(TWeights gate, TWeights up, Rows x, Rows act, LinearShape shape)
        where TWeights : struct, IWeightMatrix
    {
        int items = shape.Tokens * shape.OutFeatures;
        int end = WorkRange.End(items);
        for (int item = WorkRange.Start(items); item < end; item++)
        {
            int t = item / shape.OutFeatures, row = item % shape.OutFeatures;
            float g = LinearKernels.Dot(gate, 0, row, x, t, shape.InFeatures);
            float u = LinearKernels.Dot(up, 0, row, x, t, shape.InFeatures);
            act[t, row] = Silu(g) * u;
        }
    }

    public static float Silu(float x) => x / (1f + MathF.Exp(-x));
}
