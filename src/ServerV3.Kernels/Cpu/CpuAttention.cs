using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ILGPU.Frontend;
using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// CPU SIMD body of <see cref="MlaKernels.Attend"/>. MLA's heads all read the same latent keys, so a work item is a
/// token and a group of up to <see cref="GroupHeads"/> heads: each block of <see cref="BlockPositions"/> cached
/// positions is loaded once for the whole group, its scores form one vector per head (so the exponentials are
/// vectorised), and the online softmax rescales once per block instead of once per position. A head's arithmetic
/// depends only on its own query and the cache, never on the batch or the partition of the work.
/// </summary>
internal static unsafe class CpuAttention
{
    private const int GroupHeads = 8;
    private const int BlockPositions = 16;

    private static int Groups(MlaShape shape) => (shape.Heads + GroupHeads - 1) / GroupHeads;

    /// <summary>Items thread, thread + threads, ...: causal prefill makes later tokens dearer, so interleave them.</summary>
    [External("serverv3_attend_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend(Rows qAbs, ILGPU.ArrayView<float> cache, PagedLayout layout, Rows latentOut, MlaShape shape, int thread, int threads)
    {
        int groups = Groups(shape), items = shape.Tokens * groups, width = shape.Latent + shape.Rope;
        float* slots = CpuPointers.Of(cache);
        float* scores = stackalloc float[GroupHeads * BlockPositions];
        float** blockKeys = stackalloc float*[BlockPositions];
        float* maxima = stackalloc float[GroupHeads];
        float* denominators = stackalloc float[GroupHeads];
        for (int item = thread; item < items; item += threads)
        {
            int t = item / groups, firstHead = item % groups * GroupHeads;
            int heads = Math.Min(GroupHeads, shape.Heads - firstHead);
            int sequence = layout.TokenSequence[t], last = layout.Positions[t];
            long firstRow = (long)t * shape.Heads + firstHead;
            for (int h = 0; h < heads; h++)
            {
                new Span<float>(Row(latentOut, firstRow + h), shape.Latent).Clear();
                maxima[h] = float.NegativeInfinity;
                denominators[h] = 0;
            }
            for (int start = 0; start <= last; start += BlockPositions)
            {
                int count = Math.Min(BlockPositions, last + 1 - start);
                for (int i = 0; i < count; i++) blockKeys[i] = slots + layout.Slot(sequence, start + i) * width;
                // The cache is cold after a layer's weights went through; ask for the next block while this one computes.
                for (int s = start + BlockPositions, next = Math.Min(last, start + 2 * BlockPositions - 1); s <= next; s++)
                {
                    byte* key = (byte*)(slots + layout.Slot(sequence, s) * width);
                    for (int b = 0; b < width * sizeof(float); b += 64) Sse.Prefetch0(key + b);
                }
                for (int h = 0; h < heads; h++)
                {
                    float* q = Row(qAbs, firstRow + h);
                    float* score = scores + h * BlockPositions;
                    int p = 0;
                    for (; p + 4 <= count; p += 4) Dot4(q, blockKeys + p, width, shape.SoftmaxScale, score + p);
                    for (; p < count; p++) score[p] = Dot(q, blockKeys[p], width) * shape.SoftmaxScale;
                    for (; p < BlockPositions; p++) score[p] = float.NegativeInfinity;
                    var block = Vector512.Load(score);
                    float newMax = MathF.Max(maxima[h], block.ToScalarMax());
                    float correction = MathF.Exp(maxima[h] - newMax);
                    var weights = Exp(block - Vector512.Create(newMax));
                    weights.Store(score);
                    denominators[h] = denominators[h] * correction + Vector512.Sum(weights);
                    maxima[h] = newMax;
                    Accumulate(Row(latentOut, firstRow + h), blockKeys, score, count, correction, shape.Latent);
                }
            }
            for (int h = 0; h < heads; h++)
            {
                float* output = Row(latentOut, firstRow + h);
                var inverse = Vector512.Create(1f / denominators[h]);
                int c = 0;
                for (; c + 16 <= shape.Latent; c += 16) (Vector512.Load(output + c) * inverse).Store(output + c);
                for (; c < shape.Latent; c++) output[c] *= inverse[0];
            }
        }
    }

    /// <summary>
    /// e^x for x ≤ 0 (scores minus their maximum), within 2 ulp; -inf and anything below e^-87 give 0. Written out
    /// with explicit FMAs because Vector512.Exp's multiply-adds may or may not fuse depending on how its code was
    /// jitted, which would let a token's result change between two identical runs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Exp(Vector512<float> x)
    {
        var lowest = Vector512.Create(-87f);
        var clamped = Vector512.Max(x, lowest);
        var n = Vector512.Round(clamped * Vector512.Create(1.44269504f));
        var r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-0.693145752f), clamped);
        r = Vector512.FusedMultiplyAdd(n, Vector512.Create(-1.42860677e-6f), r);
        var p = Vector512.Create(1f / 720);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 120));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 24));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(1f / 6));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512.Create(0.5f));
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        p = Vector512.FusedMultiplyAdd(p, r, Vector512<float>.One);
        var scale = Vector512.ShiftLeft(Vector512.ConvertToInt32(n) + Vector512.Create(127), 23).AsSingle();
        return Vector512.ConditionalSelect(Vector512.LessThan(x, lowest), Vector512<float>.Zero, p * scale);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static float* Row(Rows rows, long row) => CpuPointers.Of(rows.Data) + rows.Offset + row * rows.Stride;

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static float ToScalarMax(this Vector512<float> v)
    {
        var m = Vector256.Max(v.GetLower(), v.GetUpper());
        var n = Vector128.Max(m.GetLower(), m.GetUpper());
        n = Vector128.Max(n, Vector128.Shuffle(n, Vector128.Create(2, 3, 0, 1)));
        return MathF.Max(n[0], n[1]);
    }

    /// <summary>
    /// Four keys against one query at once: four independent FMA chains instead of one, each reduced in exactly
    /// <see cref="Dot"/>'s order, so a position's score does not depend on where its block starts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot4(float* q, float** keys, int length, float scale, float* scores)
    {
        float* k0 = keys[0], k1 = keys[1], k2 = keys[2], k3 = keys[3];
        Vector512<float> e0 = default, e1 = default, e2 = default, e3 = default, o0 = default, o1 = default, o2 = default, o3 = default;
        int c = 0;
        for (; c + 32 <= length; c += 32)
        {
            var qe = Vector512.Load(q + c);
            var qo = Vector512.Load(q + c + 16);
            e0 = Vector512.FusedMultiplyAdd(qe, Vector512.Load(k0 + c), e0);
            e1 = Vector512.FusedMultiplyAdd(qe, Vector512.Load(k1 + c), e1);
            e2 = Vector512.FusedMultiplyAdd(qe, Vector512.Load(k2 + c), e2);
            e3 = Vector512.FusedMultiplyAdd(qe, Vector512.Load(k3 + c), e3);
            o0 = Vector512.FusedMultiplyAdd(qo, Vector512.Load(k0 + c + 16), o0);
            o1 = Vector512.FusedMultiplyAdd(qo, Vector512.Load(k1 + c + 16), o1);
            o2 = Vector512.FusedMultiplyAdd(qo, Vector512.Load(k2 + c + 16), o2);
            o3 = Vector512.FusedMultiplyAdd(qo, Vector512.Load(k3 + c + 16), o3);
        }
        if (c + 16 <= length)
        {
            var qe = Vector512.Load(q + c);
            e0 = Vector512.FusedMultiplyAdd(qe, Vector512.Load(k0 + c), e0);
            e1 = Vector512.FusedMultiplyAdd(qe, Vector512.Load(k1 + c), e1);
            e2 = Vector512.FusedMultiplyAdd(qe, Vector512.Load(k2 + c), e2);
            e3 = Vector512.FusedMultiplyAdd(qe, Vector512.Load(k3 + c), e3);
            c += 16;
        }
        scores[0] = Finish(Vector512.Sum(e0 + o0), q, k0, c, length) * scale;
        scores[1] = Finish(Vector512.Sum(e1 + o1), q, k1, c, length) * scale;
        scores[2] = Finish(Vector512.Sum(e2 + o2), q, k2, c, length) * scale;
        scores[3] = Finish(Vector512.Sum(e3 + o3), q, k3, c, length) * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Finish(float sum, float* a, float* b, int c, int length)
    {
        for (; c < length; c++) sum = MathF.FusedMultiplyAdd(a[c], b[c], sum);
        return sum;
    }

    /// <summary>Two accumulators (even and odd 16-column chunks) halve the FMA chain of a 288-wide dot product.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot(float* a, float* b, int length)
    {
        Vector512<float> even = Vector512<float>.Zero, odd = Vector512<float>.Zero;
        int c = 0;
        for (; c + 32 <= length; c += 32)
        {
            even = Vector512.FusedMultiplyAdd(Vector512.Load(a + c), Vector512.Load(b + c), even);
            odd = Vector512.FusedMultiplyAdd(Vector512.Load(a + c + 16), Vector512.Load(b + c + 16), odd);
        }
        if (c + 16 <= length)
        {
            even = Vector512.FusedMultiplyAdd(Vector512.Load(a + c), Vector512.Load(b + c), even);
            c += 16;
        }
        return Finish(Vector512.Sum(even + odd), a, b, c, length);
    }

    /// <summary>
    /// output = output * correction + Σ_i weight[i] * key[i][0..latent). Eight accumulators (128 columns) per pass
    /// over the block: one chain per column chunk would wait on the FMA latency at every position.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate(float* output, float** keys, float* weights, int count, float correction, int latent)
    {
        var scale = Vector512.Create(correction);
        int c = 0;
        for (; c + 128 <= latent; c += 128)
        {
            float* o = output + c;
            Vector512<float> a0 = Vector512.Load(o) * scale, a1 = Vector512.Load(o + 16) * scale;
            Vector512<float> a2 = Vector512.Load(o + 32) * scale, a3 = Vector512.Load(o + 48) * scale;
            Vector512<float> a4 = Vector512.Load(o + 64) * scale, a5 = Vector512.Load(o + 80) * scale;
            Vector512<float> a6 = Vector512.Load(o + 96) * scale, a7 = Vector512.Load(o + 112) * scale;
            for (int i = 0; i < count; i++)
            {
                var w = Vector512.Create(weights[i]);
                float* k = keys[i] + c;
                a0 = Vector512.FusedMultiplyAdd(w, Vector512.Load(k), a0);
                a1 = Vector512.FusedMultiplyAdd(w, Vector512.Load(k + 16), a1);
                a2 = Vector512.FusedMultiplyAdd(w, Vector512.Load(k + 32), a2);
                a3 = Vector512.FusedMultiplyAdd(w, Vector512.Load(k + 48), a3);
                a4 = Vector512.FusedMultiplyAdd(w, Vector512.Load(k + 64), a4);
                a5 = Vector512.FusedMultiplyAdd(w, Vector512.Load(k + 80), a5);
                a6 = Vector512.FusedMultiplyAdd(w, Vector512.Load(k + 96), a6);
                a7 = Vector512.FusedMultiplyAdd(w, Vector512.Load(k + 112), a7);
            }
            a0.Store(o); a1.Store(o + 16); a2.Store(o + 32); a3.Store(o + 48);
            a4.Store(o + 64); a5.Store(o + 80); a6.Store(o + 96); a7.Store(o + 112);
        }
        for (; c + 16 <= latent; c += 16)
        {
            var acc = Vector512.Load(output + c) * scale;
            for (int i = 0; i < count; i++) acc = Vector512.FusedMultiplyAdd(Vector512.Create(weights[i]), Vector512.Load(keys[i] + c), acc);
            acc.Store(output + c);
        }
        for (; c < latent; c++)
        {
            float acc = output[c] * correction;
            for (int i = 0; i < count; i++) acc = MathF.FusedMultiplyAdd(weights[i], keys[i][c], acc);
            output[c] = acc;
        }
    }
}
