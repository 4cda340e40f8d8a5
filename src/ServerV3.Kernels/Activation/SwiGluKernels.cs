using ILGPU;
using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Activation;

/// <summary>
/// The fused first half of a dense SwiGLU MLP with the RMSNorm before it: act[t, r] = silu(gate[r] · n[t]) *
/// (up[r] · n[t]) with n[t] = rmsnorm(x[t]), a group per output element (token-major, as in
/// <see cref="LinearKernels.Linear"/>) that takes its token's norm itself (<see cref="NormLinearKernels"/>).
/// </summary>
public static class SwiGluKernels
{
    public static void GateUp<TWeights>(TWeights gate, TWeights up, Rows x, ArrayView<float> normWeight, Rows act, NormLinearShape shape)
        where TWeights : struct, IWeightMatrix
    {
        var partials = SharedMemory.Allocate<float>(LinearKernels.DotGroup);
        int items = shape.Tokens * shape.OutFeatures;
        for (int item = Grid.IdxX; item < items; item += Grid.DimX)
        {
            int t = item / shape.OutFeatures, row = item % shape.OutFeatures;
            float inverseRms = NormLinearKernels.InverseRms(x, t, shape.InFeatures, shape.Eps, partials);
            float g = NormLinearKernels.NormalizedDot(gate, row, x, t, inverseRms, normWeight, shape.InFeatures, partials);
            float u = NormLinearKernels.NormalizedDot(up, row, x, t, inverseRms, normWeight, shape.InFeatures, partials);
            if (Group.IdxX == 0) act[t, row] = Silu(g) * u;
        }
    }

    public static float Silu(float x) => x / (1f + MathF.Exp(-x));
}
