using ILGPU;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Gemm;

/// <summary>
/// y[t, r] (+)= W[matrix][r, :] · x[t, :]. A group owns one output element at a time (token-major) and its threads
/// split the dot product (<see cref="GroupDot"/>); on a GPU neighbouring threads then read neighbouring weights.
/// </summary>
public static class LinearKernels
{
    /// <summary>Threads that share one dot product on a GPU (a warp).</summary>
    public const int DotGroup = 32;

    public static void Linear<TWeights>(TWeights weights, int matrix, Rows x, Rows y, LinearShape shape)
        where TWeights : struct, IWeightMatrix
    {
        var partials = SharedMemory.Allocate<float>(DotGroup);
        int items = shape.Tokens * shape.OutFeatures;
        for (int item = Grid.IdxX; item < items; item += Grid.DimX)
        {
            int t = item / shape.OutFeatures, row = item % shape.OutFeatures;
            float sum = GroupDot(weights, matrix, row, x, t, shape.InFeatures, partials);
            if (Group.IdxX == 0) y[t, row] = shape.Accumulate != 0 ? y[t, row] + sum : sum;
        }
    }

    /// <summary>
    /// Weight row <paramref name="row"/> · activation row <paramref name="token"/>, shared by the group: thread i sums
    /// columns i, i + n, ... and <see cref="GroupSum"/> adds the partials (one thread: the plain sequential dot).
    /// Every thread of the group must call it.
    /// </summary>
    public static float GroupDot<TWeights>(TWeights weights, int matrix, int row, Rows x, int token, int length, ArrayView<float> partials)
        where TWeights : struct, IWeightMatrix
    {
        float sum = 0;
        for (int c = Group.IdxX; c < length; c += Group.DimX) sum += weights.Get(matrix, row, c) * x[token, c];
        return GroupSum.Of(sum, partials);
    }
}

public readonly record struct LinearShape(int Tokens, int InFeatures, int OutFeatures, int Accumulate);
