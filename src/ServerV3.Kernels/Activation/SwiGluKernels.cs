using ILGPU;
using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Activation;

/// <summary>
/// The fused first half of a SwiGLU MLP: act[t, r] = silu(gate[r] · x[t]) * (up[r] · x[t]), a group per output
/// element (token-major, as in <see cref="LinearKernels.Linear"/>).
/// </summary>
public static class SwiGluKernels
{
    public static void GateUp<TWeights>(TWeights gate, TWeights up, Rows x, Rows act, LinearShape shape)
        where TWeights : struct, IWeightMatrix
    {
        var partials = SharedMemory.Allocate<float>(LinearKernels.DotGroup);
        int items = shape.Tokens * shape.OutFeatures;
        for (int item = Grid.IdxX; item < items; item += Grid.DimX)
        {
            int t = item / shape.OutFeatures, row = item % shape.OutFeatures;
            float g = LinearKernels.GroupDot(gate, 0, row, x, t, shape.InFeatures, partials);
            float u = LinearKernels.GroupDot(up, 0, row, x, t, shape.InFeatures, partials);
            if (Group.IdxX == 0) act[t, row] = Silu(g) * u;
        }
    }

    public static float Silu(float x) => x / (1f + MathF.Exp(-x));
}
