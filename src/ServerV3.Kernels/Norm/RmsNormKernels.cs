using ILGPU;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Norm;

/// <summary>
/// y[t] = x[t] / sqrt(mean(x[t]^2) + eps) * w, a group per token. x and y may alias: every thread has read x[t]
/// for the sum of squares before any writes, and then rescales only its own columns.
/// </summary>
public static class RmsNormKernels
{
    /// <summary>Threads that share one row on a GPU.</summary>
    public const int NormGroup = 128;

    public static void RmsNorm(Rows x, Rows y, ArrayView<float> weight, int tokens, int dim, float eps)
    {
        var partials = SharedMemory.Allocate<float>(NormGroup);
        for (int t = Grid.IdxX; t < tokens; t += Grid.DimX)
        {
            float squares = 0;
            for (int c = Group.IdxX; c < dim; c += Group.DimX)
            {
                float v = x[t, c];
                squares += v * v;
            }
            float inverseRms = 1f / MathF.Sqrt(GroupSum.Of(squares, partials) / dim + eps);
            for (int c = Group.IdxX; c < dim; c += Group.DimX) y[t, c] = x[t, c] * inverseRms * weight[c];
        }
    }
}
