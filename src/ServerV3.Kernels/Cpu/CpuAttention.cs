using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ILGPU.Frontend;
using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Cpu;

/// <summary>CPU SIMD body of <see cref="MlaKernels.Attend"/>: the same one-pass online softmax, vectorised over the latent.</summary>
internal static unsafe class CpuAttention
{
    [External("serverv3_attend_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend(Rows qAbs, ILGPU.ArrayView<float> cache, PagedLayout layout, Rows latentOut, MlaShape shape, int itemStart, int itemEnd)
    {
        int width = shape.Latent + shape.Rope;
        float* slots = CpuPointers.Of(cache);
        int* tables = CpuPointers.Of(layout.BlockTables);
        for (int item = itemStart; item < itemEnd; item++)
        {
            int t = item / shape.Heads;
            int sequence = layout.TokenSequence[t], last = layout.Positions[t];
            float* q = CpuPointers.Of(qAbs.Data) + qAbs.Offset + (long)item * qAbs.Stride;
            float* output = CpuPointers.Of(latentOut.Data) + latentOut.Offset + (long)item * latentOut.Stride;
            new Span<float>(output, shape.Latent).Clear();
            float runningMax = float.NegativeInfinity, denominator = 0;
            for (int s = 0; s <= last; s++)
            {
                long slot = (long)tables[(long)sequence * layout.MaxBlocksPerSequence + s / layout.BlockSize] * layout.BlockSize + s % layout.BlockSize;
                float* key = slots + slot * width;
                float score = Dot(q, key, width) * shape.SoftmaxScale;
                float newMax = MathF.Max(runningMax, score);
                float correction = MathF.Exp(runningMax - newMax), weight = MathF.Exp(score - newMax);
                denominator = denominator * correction + weight;
                Rescale(output, key, correction, weight, shape.Latent);
                runningMax = newMax;
            }
            float inverse = 1f / denominator;
            for (int c = 0; c < shape.Latent; c++) output[c] *= inverse;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(float* a, float* b, int length)
    {
        var acc = Vector512<float>.Zero;
        int c = 0;
        for (; c + 16 <= length; c += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(a + c), Vector512.Load(b + c), acc);
        float sum = Vector512.Sum(acc);
        for (; c < length; c++) sum = MathF.FusedMultiplyAdd(a[c], b[c], sum);
        return sum;
    }

    /// <summary>output = output * correction + weight * value.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Rescale(float* output, float* value, float correction, float weight, int length)
    {
        var scale = Vector512.Create(correction);
        var w = Vector512.Create(weight);
        int c = 0;
        for (; c + 16 <= length; c += 16)
            Vector512.FusedMultiplyAdd(w, Vector512.Load(value + c), Vector512.Load(output + c) * scale).Store(output + c);
        for (; c < length; c++) output[c] = MathF.FusedMultiplyAdd(weight, value[c], output[c] * correction);
    }
}
