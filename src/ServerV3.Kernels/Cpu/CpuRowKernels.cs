using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Frontend;
using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Moe;
using ServerV3.Kernels.Norm;

namespace ServerV3.Kernels.Cpu;

/// <summary>CPU SIMD bodies of the per-row kernels: RMSNorm, the latent cache write, the MoE combine and row gathers.</summary>
public static class CpuRowKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RmsNorm(Rows x, Rows y, ArrayView<float> weight, int tokens, int dim, float eps)
    {
        CpuWorker.Slice(tokens, out int start, out int end);
        RmsNormRows(x, y, weight, start, end, dim, eps);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Combine(Rows expertOutput, ArrayView<int> choiceSlots, ArrayView<float> weights, Rows hidden, CombineShape shape)
    {
        CpuWorker.Slice(shape.Tokens, out int start, out int end);
        CombineRows(expertOutput, choiceSlots, weights, hidden, shape, start, end, 0, shape.Hidden);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void WriteLatent(LatentCacheWrite write)
    {
        CpuWorker.Slice(write.Shape.Tokens, out int start, out int end);
        WriteLatentRows(write, start, end);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GatherRows(Rows input, ArrayView<int> rowIndices, Rows output, int rows, int dim)
    {
        CpuWorker.Slice(rows, out int start, out int end);
        CopyRows(input, rowIndices, output, start, end, dim);
    }

    /// <summary>
    /// output[r] = input[rowIndices[r]] for rows [start, end), a memory copy each (the portable loop costs ILGPU's CPU
    /// backend tens of nanoseconds an element; the expanded attention gathers 288-wide cache rows by the thousand).
    /// </summary>
    [External("serverv3_copy_rows_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void CopyRows(Rows input, ArrayView<int> rowIndices, Rows output, int start, int end, int dim)
    {
        float* source = CpuPointers.Of(input.Data) + input.Offset, target = CpuPointers.Of(output.Data) + output.Offset;
        int* indices = CpuPointers.Of(rowIndices);
        for (int r = start; r < end; r++)
            new ReadOnlySpan<float>(source + (long)indices[r] * input.Stride, dim).CopyTo(new Span<float>(target + (long)r * output.Stride, dim));
    }

    /// <summary>output[t] = row ids[t] of the weights, widened to fp32, for tokens [start, end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void LookupRows<TChunks>(TChunks weights, int cols, int* ids, int start, int end, Rows output) where TChunks : struct, IWeightChunks
    {
        for (int t = start; t < end; t++)
        {
            float* target = CpuPointers.Of(output.Data) + output.Offset + (long)t * output.Stride;
            int c = 0;
            for (; c + 32 <= cols; c += 32)
            {
                weights.Load(ids[t], c, out var low, out var high);
                low.Store(target + c);
                high.Store(target + c + 16);
            }
            for (; c < cols; c++) target[c] = weights.Scalar(ids[t], c);
        }
    }

    /// <summary>RMSNorm of rows [start, end): a vector sum of squares, then scale.</summary>
    [External("serverv3_rms_norm_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void RmsNormRows(Rows x, Rows y, ArrayView<float> weight, int start, int end, int dim, float eps)
    {
        for (int t = start; t < end; t++)
        {
            NormalizeRow(CpuPointers.Of(x.Data) + x.Offset + (long)t * x.Stride, CpuPointers.Of(y.Data) + y.Offset + (long)t * y.Stride,
                CpuPointers.Of(weight), dim, eps);
        }
    }

    /// <summary>
    /// Tokens [start, end) of the latent cache write (see <see cref="MlaKernels.WriteLatentToken"/>): c_kv normalised with
    /// <see cref="RmsNormRows"/>' arithmetic and k_pe rotated, straight into each token's slot. The portable loop run by
    /// ILGPU's CPU backend took 19 ms a layer for 512 tokens.
    /// </summary>
    [External("serverv3_write_latent_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void WriteLatentRows(LatentCacheWrite write, int start, int end)
    {
        var shape = write.Shape;
        var layout = write.Layout;
        int width = shape.Latent + shape.Rope;
        for (int t = start; t < end; t++)
        {
            int position = layout.Positions[t];
            float* slot = CpuPointers.Of(write.Cache) + layout.Slot(layout.TokenSequence[t], position) * width;
            float* kva = CpuPointers.Of(write.Kva.Data) + write.Kva.Offset + (long)t * write.Kva.Stride;
            NormalizeRow(kva, slot, CpuPointers.Of(write.NormWeight), shape.Latent, shape.Eps);
            CpuRope.Rotate(kva + shape.Latent, slot + shape.Latent, write.Rope, position, shape.Rope);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static unsafe void NormalizeRow(float* input, float* output, float* w, int dim, float eps)
    {
        var acc = Vector512<float>.Zero;
        int c = 0;
        for (; c + 16 <= dim; c += 16)
        {
            var v = Vector512.Load(input + c);
            acc = Vector512.FusedMultiplyAdd(v, v, acc);
        }
        float sumSquares = LaneSums.Of(acc);
        for (; c < dim; c++) sumSquares = MathF.FusedMultiplyAdd(input[c], input[c], sumSquares);
        var inverseRms = Vector512.Create(1f / MathF.Sqrt(sumSquares / dim + eps));
        c = 0;
        for (; c + 16 <= dim; c += 16) (Vector512.Load(input + c) * inverseRms * Vector512.Load(w + c)).Store(output + c);
        for (; c < dim; c++) output[c] = input[c] * inverseRms[0] * w[c];
    }

    /// <summary>
    /// Tokens [start, end), columns [columnStart, columnEnd) of the combine. Each element is one FMA chain over k then
    /// one add, whether its column falls in a vector chunk or the scalar tail, so any partition gives the same values.
    /// </summary>
    [External("serverv3_combine_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static unsafe void CombineRows(
        Rows expertOutput, ArrayView<int> choiceSlots, ArrayView<float> weights, Rows hidden, CombineShape shape, int start, int end, int columnStart, int columnEnd)
    {
        int* slots = CpuPointers.Of(choiceSlots);
        float* w = CpuPointers.Of(weights);
        float* outputs = CpuPointers.Of(expertOutput.Data) + expertOutput.Offset;
        for (int t = start; t < end; t++)
        {
            float* h = CpuPointers.Of(hidden.Data) + hidden.Offset + (long)t * hidden.Stride;
            int c = columnStart;
            for (; c + 16 <= columnEnd; c += 16)
            {
                var sum = Vector512<float>.Zero;
                for (int k = 0; k < shape.TopK; k++)
                {
                    long choice = (long)t * shape.TopK + k;
                    sum = Vector512.FusedMultiplyAdd(Vector512.Create(w[choice]), Vector512.Load(outputs + slots[choice] * (long)expertOutput.Stride + c), sum);
                }
                (Vector512.Load(h + c) + sum).Store(h + c);
            }
            for (; c < columnEnd; c++)
            {
                float sum = 0;
                for (int k = 0; k < shape.TopK; k++)
                {
                    long choice = (long)t * shape.TopK + k;
                    sum = MathF.FusedMultiplyAdd(w[choice], outputs[slots[choice] * (long)expertOutput.Stride + c], sum);
                }
                h[c] += sum;
            }
        }
    }
}
