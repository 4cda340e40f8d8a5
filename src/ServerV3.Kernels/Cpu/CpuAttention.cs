using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ILGPU.Frontend;
using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// CPU SIMD attention of <see cref="CpuKernels.Attention{TWeights}"/>. MLA's heads all read the same latent keys, so a
/// token's group of heads (<see cref="GroupHeads"/> or <see cref="WideGroupHeads"/>) is attended together: each block of <see cref="BlockPositions"/> cached
/// positions is loaded once for the whole group, its scores form one vector per head (so the exponentials are
/// vectorised), and the online softmax rescales once per block instead of once per position. A head's arithmetic
/// depends only on its own query and the cache, never on the batch or the partition of the work.
/// </summary>
internal static unsafe class CpuAttention
{
    /// <summary>Cached positions scored and weighted together (one online-softmax step).</summary>
    internal const int BlockPositions = 16;

    /// <summary>Heads attended together share each key load.</summary>
    public const int GroupHeads = 8;

    /// <summary>
    /// Heads of a group when a launch has token blocks enough to keep every worker busy with wider groups: each key is
    /// then read by half as many work items. Batch 16, attention per decode step, 8-head groups -> 16, four interleaved
    /// rounds at 1024 positions: 47.5 / 52.3 / 47.2 / 38.5 -> 39.9 / 35.9 / 40.1 / 34.7 ms; two at 128 positions: 10.6 /
    /// 10.6 -> 9.7 / 9.6 ms. How heads are grouped never changes a head's arithmetic.
    /// </summary>
    public const int WideGroupHeads = 16;

    /// <summary>Groups of <see cref="GroupHeads"/> heads (the last may be smaller).</summary>
    public static int Groups(MlaShape shape) => Groups(shape, GroupHeads);

    /// <summary>Groups of <paramref name="groupHeads"/> heads (the last may be smaller).</summary>
    public static int Groups(MlaShape shape, int groupHeads) => (shape.Heads + groupHeads - 1) / groupHeads;

    /// <summary>
    /// Cached positions whose softmax is taken on its own before it is folded, in position order, into the token's
    /// result: every token of a long context is computed this way, so a launch may hand a few tokens' segments to
    /// different workers (<see cref="AttendPart"/>) and still give the bits of one worker's pass (<see cref="Attend"/>).
    /// A multiple of <see cref="BlockPositions"/>; a context of up to this many positions is a single segment, folded nowhere.
    /// </summary>
    internal const int SegmentPositions = 256;

    /// <summary>Segments of a token at position <paramref name="last"/> (it sees positions 0..last).</summary>
    public static int Segments(int last) => last / SegmentPositions + 1;

    /// <summary>
    /// Tokens [first, first + tokens) attended by heads [firstHead, firstHead + heads) (at most
    /// <see cref="WideGroupHeads"/>), segment after segment.
    /// </summary>
    [External("serverv3_attend_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend(Rows qAbs, ILGPU.ArrayView<float> cache, PagedLayout layout, Rows latentOut, MlaShape shape, int firstHead, int heads, int first, int tokens)
    {
        float* segmentBuffer = stackalloc float[heads * shape.Latent + CpuPointers.LinePadding];
        float* segment = CpuPointers.LineAligned(segmentBuffer);
        float* maxima = stackalloc float[heads];
        float* denominators = stackalloc float[heads];
        float* segmentMaxima = stackalloc float[heads];
        float* segmentDenominators = stackalloc float[heads];
        int hotFrom = 0;
        for (int t = first; t < first + tokens; t++)
        {
            int sequence = layout.TokenSequence[t], last = layout.Positions[t];
            if (t == first || layout.TokenSequence[t - 1] != sequence) hotFrom = FirstWrittenThisStep(layout, t);
            long firstRow = (long)t * shape.Heads + firstHead;
            float* output = Row(latentOut, firstRow);
            // The first segment accumulates in the output rows, each later one beside them and is then folded in.
            AttendSegment(Row(qAbs, firstRow), qAbs.Stride, heads, cache, layout, sequence, 0, last, hotFrom, output, latentOut.Stride, maxima, denominators, shape);
            for (int s = 1, segments = Segments(last); s < segments; s++)
            {
                AttendSegment(Row(qAbs, firstRow), qAbs.Stride, heads, cache, layout, sequence, s, last, hotFrom, segment, shape.Latent,
                    segmentMaxima, segmentDenominators, shape);
                for (int h = 0; h < heads; h++)
                    Fold(output + h * latentOut.Stride, ref maxima[h], ref denominators[h], segment + h * shape.Latent, segmentMaxima[h], segmentDenominators[h], shape.Latent);
            }
            for (int h = 0; h < heads; h++) Normalize(output + h * latentOut.Stride, denominators[h], shape.Latent);
        }
    }

    /// <summary>
    /// Segment <paramref name="segment"/> of token <paramref name="token"/> for all heads into its part of
    /// <paramref name="parts"/>. The token's last segment to finish folds them all, in order, into its latent rows;
    /// returns whether this call did.
    /// </summary>
    /// <param name="firstPart">The part of the token's segment 0.</param>
    [External("serverv3_attend_part_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static bool AttendPart(
        Rows qAbs, ILGPU.ArrayView<float> cache, PagedLayout layout, Rows latentOut, AttentionParts parts, MlaShape shape, int token, int segment, int firstPart)
    {
        int heads = shape.Heads, last = layout.Positions[token], segments = Segments(last);
        var sums = parts.Sums;
        float* statistics = CpuPointers.Of(parts.Statistics);
        // Part p's rows of sums start at row p * heads; its maxima at 2 * heads * p, its denominators right after.
        float* own = statistics + 2L * heads * (firstPart + segment);
        AttendSegment(Row(qAbs, (long)token * heads), qAbs.Stride, heads, cache, layout, layout.TokenSequence[token], segment, last,
            FirstWrittenThisStep(layout, token), Row(sums, (long)(firstPart + segment) * heads), sums.Stride, own, own + heads, shape);
        // The atomic add orders this segment's writes before the count that another worker may read.
        if (ILGPU.Atomic.Add(ref parts.SegmentsFinished[token], 1) != segments - 1) return false;
        for (int h = 0; h < heads; h++)
        {
            float* row = Row(latentOut, (long)token * heads + h);
            new ReadOnlySpan<float>(Row(sums, (long)firstPart * heads + h), shape.Latent).CopyTo(new Span<float>(row, shape.Latent));
            float* part = statistics + 2L * heads * firstPart;
            float maximum = part[h], denominator = part[heads + h];
            for (int s = 1; s < segments; s++)
            {
                part += 2 * heads;
                Fold(row, ref maximum, ref denominator, Row(sums, (long)(firstPart + s) * heads + h), part[h], part[heads + h], shape.Latent);
            }
            Normalize(row, denominator, shape.Latent);
        }
        return true;
    }

    /// <summary>
    /// Waits until counters[index] reaches <paramref name="target"/> (other workers finishing their claimed heads):
    /// volatile reads, spinning briefly and then yielding the core (which a shared host's vCPU may need for the worker
    /// being waited on) but never sleeping a millisecond, as SpinWait would by default.
    /// </summary>
    [External("serverv3_await_count_cpu")]
    public static void AwaitCount(ILGPU.ArrayView<int> counters, int index, int target)
    {
        int* counter = CpuPointers.Of(counters) + index;
        var spin = new SpinWait();
        while (Volatile.Read(ref *counter) < target) spin.SpinOnce(sleep1Threshold: -1);
    }

    /// <summary>
    /// Positions [segment * <see cref="SegmentPositions"/>, ...] up to <paramref name="last"/> of one sequence, for
    /// <paramref name="heads"/> query rows from a fresh softmax: unnormalised sums into the output rows, each row's
    /// maximum and denominator into <paramref name="maxima"/> and <paramref name="denominators"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void AttendSegment(
        float* firstQuery, long queryStride, int heads, ILGPU.ArrayView<float> cache, PagedLayout layout, int sequence, int segment, int last, int hotFrom,
        float* firstOutput, long outputStride, float* maxima, float* denominators, MlaShape shape)
    {
        int width = shape.Latent + shape.Rope, from = segment * SegmentPositions, end = Math.Min(last + 1, from + SegmentPositions);
        float* scoreBuffer = stackalloc float[heads * BlockPositions + CpuPointers.LinePadding];
        float* scores = CpuPointers.LineAligned(scoreBuffer);
        float* corrections = stackalloc float[heads];
        // This block's keys and the next block's (asked for while this one computes).
        float** blockKeys = stackalloc float*[BlockPositions];
        float** nextKeys = stackalloc float*[BlockPositions];
        for (int h = 0; h < heads; h++)
        {
            new Span<float>(firstOutput + h * outputStride, shape.Latent).Clear();
            maxima[h] = float.NegativeInfinity;
            denominators[h] = 0;
        }
        var cursor = new CacheCursor(CpuPointers.Of(cache), layout, sequence, width, from);
        for (int i = 0, count = Math.Min(BlockPositions, end - from); i < count; i++) nextKeys[i] = cursor.Next();
        for (int start = from; start < end; start += BlockPositions)
        {
            int count = Math.Min(BlockPositions, end - start);
            float** swap = blockKeys;
            blockKeys = nextKeys;
            nextKeys = swap;
            // Keys from earlier steps are cold after a layer's weights went through: ask for the next block while this
            // one computes. Keys this step wrote are still in cache, and prefetching them only crowds L1 (512-token
            // prefill attention, one layer, three interleaved rounds: 31.6-33.0 ms with the prefetch, 30.2-34.3 without).
            for (int i = 0, next = Math.Min(BlockPositions, end - start - BlockPositions); i < next; i++)
            {
                byte* key = (byte*)(nextKeys[i] = cursor.Next());
                if (start + BlockPositions + i >= hotFrom) continue;
                for (int b = 0; b < width * sizeof(float); b += 64) Sse.Prefetch0(key + b);
            }
            // MLA's heads share the keys: two heads at a time load each key chunk once.
            ScoreBlock(firstQuery, queryStride, heads, blockKeys, count, width, shape.SoftmaxScale, scores);
            SoftmaxBlock(scores, heads, count, maxima, denominators, corrections);
            AccumulateBlock(firstOutput, (int)outputStride, heads, blockKeys, scores, count, corrections, shape.Latent);
        }
    }

    /// <summary>
    /// Folds a later segment's unnormalised sums (with its maximum and denominator) into the running ones: both scaled
    /// to the larger maximum, the segment's added by one FMA per element.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Fold(float* running, ref float maximum, ref float denominator, float* segment, float segmentMaximum, float segmentDenominator, int length)
    {
        float joint = MathF.Max(maximum, segmentMaximum);
        float scale = MathF.Exp(maximum - joint), segmentScale = MathF.Exp(segmentMaximum - joint);
        var runningScale = Vector512.Create(scale);
        var addedScale = Vector512.Create(segmentScale);
        int c = 0;
        for (; c + 16 <= length; c += 16)
            Vector512.FusedMultiplyAdd(Vector512.Load(segment + c), addedScale, Vector512.Load(running + c) * runningScale).Store(running + c);
        for (; c < length; c++) running[c] = MathF.FusedMultiplyAdd(segment[c], segmentScale, running[c] * scale);
        denominator = MathF.FusedMultiplyAdd(segmentDenominator, segmentScale, denominator * scale);
        maximum = joint;
    }

    /// <summary>
    /// Scaled scores of <paramref name="queries"/> query rows (row i at <paramref name="firstQuery"/> + i *
    /// <paramref name="queryStride"/>) against a block's keys, into rows of <see cref="BlockPositions"/> scores: two
    /// queries share each key load.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ScoreBlock(float* firstQuery, long queryStride, int queries, float** keys, int count, int length, float scale, float* scores)
    {
        int h = 0;
        for (; h + 2 <= queries; h += 2)
        {
            float* q0 = firstQuery + h * queryStride, q1 = q0 + queryStride;
            float* score0 = scores + h * BlockPositions, score1 = score0 + BlockPositions;
            int p = 0;
            for (; p + 4 <= count; p += 4) Dot2x4(q0, q1, keys + p, length, scale, score0 + p, score1 + p);
            for (; p < count; p++)
            {
                score0[p] = Dot(q0, keys[p], length) * scale;
                score1[p] = Dot(q1, keys[p], length) * scale;
            }
        }
        for (; h < queries; h++)
        {
            float* q = firstQuery + h * queryStride;
            float* score = scores + h * BlockPositions;
            int p = 0;
            for (; p + 4 <= count; p += 4) Dot4(q, keys + p, length, scale, score + p);
            for (; p < count; p++) score[p] = Dot(q, keys[p], length) * scale;
        }
    }

    /// <summary>
    /// One block of the online softmax for each score row: lanes from <paramref name="count"/> on count as -inf, the
    /// row becomes its weights, and the running maximum, the denominator and the correction of what came before are updated.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void SoftmaxBlock(float* scores, int rows, int count, float* maxima, float* denominators, float* corrections)
    {
        for (int h = 0; h < rows; h++)
        {
            float* score = scores + h * BlockPositions;
            for (int p = count; p < BlockPositions; p++) score[p] = float.NegativeInfinity;
            var block = Vector512.Load(score);
            float newMax = MathF.Max(maxima[h], block.ToScalarMax());
            // Past the first blocks the maximum rarely moves: exp(0) is exactly 1, and the libm call is saved.
            corrections[h] = newMax == maxima[h] ? 1f : MathF.Exp(maxima[h] - newMax);
            var weights = Exp(block - Vector512.Create(newMax));
            weights.Store(score);
            denominators[h] = denominators[h] * corrections[h] + LaneSums.Of(weights);
            maxima[h] = newMax;
        }
    }

    /// <summary>
    /// output_i = output_i * correction_i + Σ_p weight_i[p] * value[p] for <paramref name="outputs"/> rows (row i at
    /// <paramref name="firstOutput"/> + i * <paramref name="outputStride"/>, its weights in score row i): four rows share
    /// each value load, then two, then one, every element with the same operations in the same order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void AccumulateBlock(float* firstOutput, int outputStride, int outputs, float** values, float* weights, int count, float* corrections, int length)
    {
        int h = 0;
        for (; h + 4 <= outputs; h += 4)
            Accumulate4(firstOutput + (long)h * outputStride, outputStride, values, weights + h * BlockPositions, count, corrections + h, length);
        for (; h + 2 <= outputs; h += 2)
        {
            Accumulate2(firstOutput + (long)h * outputStride, firstOutput + (long)(h + 1) * outputStride, values,
                weights + h * BlockPositions, weights + (h + 1) * BlockPositions, count, corrections[h], corrections[h + 1], length);
        }
        for (; h < outputs; h++)
            Accumulate(firstOutput + (long)h * outputStride, values, weights + h * BlockPositions, count, corrections[h], length);
    }

    /// <summary>output *= 1 / denominator (the softmax's division, once per row).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Normalize(float* output, float denominator, int length)
    {
        var inverse = Vector512.Create(1f / denominator);
        int c = 0;
        for (; c + 16 <= length; c += 16) (Vector512.Load(output + c) * inverse).Store(output + c);
        for (; c < length; c++) output[c] *= inverse[0];
    }

    /// <summary>
    /// The position of the first token of token t's sequence in this step (a flattened batch keeps a sequence's tokens
    /// together and in order): the cache rows from there on were written by this step's launches.
    /// </summary>
    private static int FirstWrittenThisStep(PagedLayout layout, int t)
    {
        int sequence = layout.TokenSequence[t];
        while (t > 0 && layout.TokenSequence[t - 1] == sequence) t--;
        return layout.Positions[t];
    }

    /// <summary>e^x for x ≤ 0 (scores minus their maximum) by <see cref="VectorExp"/>; -inf and anything below e^-87 give 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Exp(Vector512<float> x)
    {
        var lowest = Vector512.Create(-87f);
        return Vector512.ConditionalSelect(Vector512.LessThan(x, lowest), Vector512<float>.Zero, VectorExp.Of(x));
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
        scores[0] = Finish(LaneSums.Of(e0 + o0), q, k0, c, length) * scale;
        scores[1] = Finish(LaneSums.Of(e1 + o1), q, k1, c, length) * scale;
        scores[2] = Finish(LaneSums.Of(e2 + o2), q, k2, c, length) * scale;
        scores[3] = Finish(LaneSums.Of(e3 + o3), q, k3, c, length) * scale;
    }

    /// <summary>
    /// Two queries against four keys: each key chunk is loaded once for both heads (the keys dominate the loads of
    /// <see cref="Dot4"/>), every (head, key) reduced in exactly <see cref="Dot"/>'s order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Dot2x4(float* q0, float* q1, float** keys, int length, float scale, float* scores0, float* scores1)
    {
        float* k0 = keys[0], k1 = keys[1], k2 = keys[2], k3 = keys[3];
        Vector512<float> e00 = default, e01 = default, e02 = default, e03 = default, o00 = default, o01 = default, o02 = default, o03 = default;
        Vector512<float> e10 = default, e11 = default, e12 = default, e13 = default, o10 = default, o11 = default, o12 = default, o13 = default;
        int c = 0;
        for (; c + 32 <= length; c += 32)
        {
            Half2x4(q0, q1, k0, k1, k2, k3, c, ref e00, ref e01, ref e02, ref e03, ref e10, ref e11, ref e12, ref e13);
            Half2x4(q0, q1, k0, k1, k2, k3, c + 16, ref o00, ref o01, ref o02, ref o03, ref o10, ref o11, ref o12, ref o13);
        }
        if (c + 16 <= length)
        {
            Half2x4(q0, q1, k0, k1, k2, k3, c, ref e00, ref e01, ref e02, ref e03, ref e10, ref e11, ref e12, ref e13);
            c += 16;
        }
        var sums = LaneSums.Of8(e00 + o00, e01 + o01, e02 + o02, e03 + o03, e10 + o10, e11 + o11, e12 + o12, e13 + o13);
        if (c == length)
        {
            var scaled = sums * Vector256.Create(scale);
            scaled.GetLower().Store(scores0);
            scaled.GetUpper().Store(scores1);
            return;
        }
        for (int i = 0; i < 4; i++)
        {
            scores0[i] = Finish(sums[i], q0, keys[i], c, length) * scale;
            scores1[i] = Finish(sums[4 + i], q1, keys[i], c, length) * scale;
        }
    }

    /// <summary>One 16-column chunk of <see cref="Dot2x4"/>: each key's chunk loaded once, one FMA into each head's accumulator.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Half2x4(float* q0, float* q1, float* k0, float* k1, float* k2, float* k3, int c,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3,
        ref Vector512<float> b0, ref Vector512<float> b1, ref Vector512<float> b2, ref Vector512<float> b3)
    {
        var x0 = Vector512.Load(q0 + c);
        var x1 = Vector512.Load(q1 + c);
        var k = Vector512.Load(k0 + c);
        a0 = Vector512.FusedMultiplyAdd(x0, k, a0);
        b0 = Vector512.FusedMultiplyAdd(x1, k, b0);
        k = Vector512.Load(k1 + c);
        a1 = Vector512.FusedMultiplyAdd(x0, k, a1);
        b1 = Vector512.FusedMultiplyAdd(x1, k, b1);
        k = Vector512.Load(k2 + c);
        a2 = Vector512.FusedMultiplyAdd(x0, k, a2);
        b2 = Vector512.FusedMultiplyAdd(x1, k, b2);
        k = Vector512.Load(k3 + c);
        a3 = Vector512.FusedMultiplyAdd(x0, k, a3);
        b3 = Vector512.FusedMultiplyAdd(x1, k, b3);
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
        return Finish(LaneSums.Of(even + odd), a, b, c, length);
    }

    /// <summary>
    /// <see cref="Accumulate"/> for four consecutive heads (rows <paramref name="first"/> + i * <paramref name="stride"/>,
    /// weights in consecutive 16-score rows, corrections in order): each key chunk is loaded once for all four, every
    /// element with the same operations in the same order as there.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate4(float* first, int stride, float** keys, float* weights, int count, float* corrections, int latent)
    {
        float* o0 = first, o1 = first + stride, o2 = first + 2 * stride, o3 = first + 3 * stride;
        float* w0 = weights, w1 = weights + BlockPositions, w2 = weights + 2 * BlockPositions, w3 = weights + 3 * BlockPositions;
        var s0 = Vector512.Create(corrections[0]);
        var s1 = Vector512.Create(corrections[1]);
        var s2 = Vector512.Create(corrections[2]);
        var s3 = Vector512.Create(corrections[3]);
        int c = 0;
        for (; c + 32 <= latent; c += 32)
        {
            Vector512<float> a0 = Vector512.Load(o0 + c) * s0, b0 = Vector512.Load(o0 + c + 16) * s0;
            Vector512<float> a1 = Vector512.Load(o1 + c) * s1, b1 = Vector512.Load(o1 + c + 16) * s1;
            Vector512<float> a2 = Vector512.Load(o2 + c) * s2, b2 = Vector512.Load(o2 + c + 16) * s2;
            Vector512<float> a3 = Vector512.Load(o3 + c) * s3, b3 = Vector512.Load(o3 + c + 16) * s3;
            for (int i = 0; i < count; i++)
            {
                CpuGemm.ScaledAdd4(Vector512.Load(keys[i] + c), Vector512.Load(keys[i] + c + 16), w0[i], w1[i], w2[i], w3[i],
                    ref a0, ref b0, ref a1, ref b1, ref a2, ref b2, ref a3, ref b3);
            }
            a0.Store(o0 + c); b0.Store(o0 + c + 16);
            a1.Store(o1 + c); b1.Store(o1 + c + 16);
            a2.Store(o2 + c); b2.Store(o2 + c + 16);
            a3.Store(o3 + c); b3.Store(o3 + c + 16);
        }
        if (c < latent)
        {
            // Fewer than 32 columns left: the two-head routine's 16-column and scalar tails, two heads at a time.
            Accumulate2Tail(o0 + c, o1 + c, keys, c, w0, w1, count, corrections[0], corrections[1], latent - c);
            Accumulate2Tail(o2 + c, o3 + c, keys, c, w2, w3, count, corrections[2], corrections[3], latent - c);
        }
    }

    /// <summary>
    /// <see cref="Accumulate"/> for two heads at once: each key chunk is loaded once for both. Every element gets
    /// the same operations in the same order as there (scale, then one FMA per key in key order).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate2(float* output0, float* output1, float** keys, float* weights0, float* weights1, int count,
        float correction0, float correction1, int latent)
    {
        var scale0 = Vector512.Create(correction0);
        var scale1 = Vector512.Create(correction1);
        int c = 0;
        for (; c + 64 <= latent; c += 64)
        {
            float* o = output0 + c, u = output1 + c;
            Vector512<float> a0 = Vector512.Load(o) * scale0, a1 = Vector512.Load(o + 16) * scale0;
            Vector512<float> a2 = Vector512.Load(o + 32) * scale0, a3 = Vector512.Load(o + 48) * scale0;
            Vector512<float> b0 = Vector512.Load(u) * scale1, b1 = Vector512.Load(u + 16) * scale1;
            Vector512<float> b2 = Vector512.Load(u + 32) * scale1, b3 = Vector512.Load(u + 48) * scale1;
            for (int i = 0; i < count; i++)
            {
                var w0 = Vector512.Create(weights0[i]);
                var w1 = Vector512.Create(weights1[i]);
                float* k = keys[i] + c;
                var k0 = Vector512.Load(k);
                a0 = Vector512.FusedMultiplyAdd(w0, k0, a0);
                b0 = Vector512.FusedMultiplyAdd(w1, k0, b0);
                var k1 = Vector512.Load(k + 16);
                a1 = Vector512.FusedMultiplyAdd(w0, k1, a1);
                b1 = Vector512.FusedMultiplyAdd(w1, k1, b1);
                var k2 = Vector512.Load(k + 32);
                a2 = Vector512.FusedMultiplyAdd(w0, k2, a2);
                b2 = Vector512.FusedMultiplyAdd(w1, k2, b2);
                var k3 = Vector512.Load(k + 48);
                a3 = Vector512.FusedMultiplyAdd(w0, k3, a3);
                b3 = Vector512.FusedMultiplyAdd(w1, k3, b3);
            }
            a0.Store(o); a1.Store(o + 16); a2.Store(o + 32); a3.Store(o + 48);
            b0.Store(u); b1.Store(u + 16); b2.Store(u + 32); b3.Store(u + 48);
        }
        if (c < latent) Accumulate2Tail(output0 + c, output1 + c, keys, c, weights0, weights1, count, correction0, correction1, latent - c);
    }

    /// <summary>The last <paramref name="columns"/> (under 64) columns of two heads, from key column <paramref name="keyOffset"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Accumulate2Tail(float* output0, float* output1, float** keys, int keyOffset, float* weights0, float* weights1, int count,
        float correction0, float correction1, int columns)
    {
        var scale0 = Vector512.Create(correction0);
        var scale1 = Vector512.Create(correction1);
        int c = 0;
        for (; c + 16 <= columns; c += 16)
        {
            var a = Vector512.Load(output0 + c) * scale0;
            var b = Vector512.Load(output1 + c) * scale1;
            for (int i = 0; i < count; i++)
            {
                var k = Vector512.Load(keys[i] + keyOffset + c);
                a = Vector512.FusedMultiplyAdd(Vector512.Create(weights0[i]), k, a);
                b = Vector512.FusedMultiplyAdd(Vector512.Create(weights1[i]), k, b);
            }
            a.Store(output0 + c);
            b.Store(output1 + c);
        }
        for (; c < columns; c++)
        {
            float a = output0[c] * correction0, b = output1[c] * correction1;
            for (int i = 0; i < count; i++)
            {
                a = MathF.FusedMultiplyAdd(weights0[i], keys[i][keyOffset + c], a);
                b = MathF.FusedMultiplyAdd(weights1[i], keys[i][keyOffset + c], b);
            }
            output0[c] = a;
            output1[c] = b;
        }
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
