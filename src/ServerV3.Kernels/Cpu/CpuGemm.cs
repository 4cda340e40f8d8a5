using System.Runtime.CompilerServices;
using ILGPU;
using ServerV3.Kernels.Launch;
using System.Runtime.Intrinsics;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// The CPU fast path's matrix product y[i, r] = W[r] · x[xRow(i)] for a range of weight rows, with Vector512 FMAs
/// in register blocks: 4 weight rows against every token in one pass up to seven tokens (two such row blocks at once
/// for one to three), 4 rows x 4 tokens over an fp32 panel of the rows from eight. Every (row, token) pair is reduced
/// by the same sequence of operations whatever the block it falls in, so results do not depend on the batch (batch
/// invariance), and they equal the one-token path bit for bit.
/// </summary>
internal static unsafe class CpuGemm
{
    private const int Chunk = 32;

    /// <summary>
    /// Tokens from which the GEMM path widens each 4-row block into an fp32 panel first. Below, 4-token blocks read the
    /// weights directly and widen them in registers. lm_head of bench-small on 2 workers, medians of 8 rounds
    /// alternating in one process, twice, direct -> panel: 4 tokens 72 -> 57 and 63 -> 53 GFLOP/s, 8 tokens 112 -> 123
    /// and 111 -> 129, 12 tokens 98 -> 107 and 118 -> 135 (before the panel spread its prefetches, the direct path won
    /// up to 24 tokens).
    /// </summary>
    private const int PanelTokens = 8;

    /// <summary>
    /// How many rows ahead the matvec asks for weights. The hardware prefetcher stops at 4 KiB pages and one core
    /// keeps few misses in flight, so without this a core streams at about half the bandwidth it can reach
    /// (lm_head of bench-small: 7-10 GB/s without, 19-20 GB/s with, on 2 Xeon cores).
    /// </summary>
    private const int PrefetchRows = 8;

    /// <summary>Activation bytes of one token block of the GEMM path (a share of L2).</summary>
    private const int TokenBlockBytes = 256 << 10;

    /// <summary>The same over ILGPU views (CPU accelerator buffers are host memory, so their addresses are stable).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<TWeights>(
        TWeights weights, int rowStart, int rowEnd, int cols, Rows x, ArrayView<int> xRows, int useXRows, int tokens, Rows y, int accumulate)
        where TWeights : struct, IWeightChunks
    {
        if (tokens == 0 || rowEnd <= rowStart) return;
        Multiply(weights, rowStart, rowEnd, cols,
            CpuPointers.Of(x.Data) + x.Offset, x.Stride, useXRows != 0 ? CpuPointers.Of(xRows) : null, tokens,
            CpuPointers.Of(y.Data) + y.Offset, y.Stride, accumulate != 0);
    }

    /// <summary>
    /// y[i, c] = Σ_d x[i, d] · W[rowStart + d, c] for i &lt; tokens: vector-matrix products, 32 columns at a time. Four
    /// rows of x share each weight chunk load; every output is one FMA chain in d order whatever its block, so a
    /// token's result does not depend on the others.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void MultiplyTransposed<TWeights>(TWeights weights, int rowStart, int rowCount, int cols, Rows x, Rows y, int tokens)
        where TWeights : struct, IWeightChunks
    {
        float* xData = CpuPointers.Of(x.Data) + x.Offset, yData = CpuPointers.Of(y.Data) + y.Offset;
        int i = 0;
        for (; i + 4 <= tokens; i += 4)
        {
            float* x0 = xData + (long)i * x.Stride, x1 = x0 + x.Stride, x2 = x1 + x.Stride, x3 = x2 + x.Stride;
            float* y0 = yData + (long)i * y.Stride, y1 = y0 + y.Stride, y2 = y1 + y.Stride, y3 = y2 + y.Stride;
            int c = 0;
            for (; c + Chunk <= cols; c += Chunk) Transposed4(weights, rowStart, rowCount, c, x0, x1, x2, x3, y0, y1, y2, y3);
            for (; c < cols; c++)
            {
                y0[c] = TransposedScalar(weights, rowStart, rowCount, c, x0);
                y1[c] = TransposedScalar(weights, rowStart, rowCount, c, x1);
                y2[c] = TransposedScalar(weights, rowStart, rowCount, c, x2);
                y3[c] = TransposedScalar(weights, rowStart, rowCount, c, x3);
            }
        }
        for (; i < tokens; i++)
        {
            float* input = xData + (long)i * x.Stride, output = yData + (long)i * y.Stride;
            int c = 0;
            for (; c + Chunk <= cols; c += Chunk)
            {
                Vector512<float> low = default, high = default;
                for (int d = 0; d < rowCount; d++)
                {
                    weights.Load(rowStart + d, c, out var wl, out var wh);
                    var scale = Vector512.Create(input[d]);
                    low = Vector512.FusedMultiplyAdd(wl, scale, low);
                    high = Vector512.FusedMultiplyAdd(wh, scale, high);
                }
                low.Store(output + c);
                high.Store(output + c + 16);
            }
            for (; c < cols; c++) output[c] = TransposedScalar(weights, rowStart, rowCount, c, input);
        }
    }

    /// <summary>Columns [c, c + 32) of four rows' vector-matrix products, in the one-row loop's order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transposed4<TWeights>(
        TWeights weights, int rowStart, int rowCount, int c, float* x0, float* x1, float* x2, float* x3, float* y0, float* y1, float* y2, float* y3)
        where TWeights : struct, IWeightChunks
    {
        Vector512<float> l0 = default, h0 = default, l1 = default, h1 = default, l2 = default, h2 = default, l3 = default, h3 = default;
        for (int d = 0; d < rowCount; d++)
        {
            weights.Load(rowStart + d, c, out var wl, out var wh);
            ScaledAdd4(wl, wh, x0[d], x1[d], x2[d], x3[d], ref l0, ref h0, ref l1, ref h1, ref l2, ref h2, ref l3, ref h3);
        }
        l0.Store(y0 + c); h0.Store(y0 + c + 16);
        l1.Store(y1 + c); h1.Store(y1 + c + 16);
        l2.Store(y2 + c); h2.Store(y2 + c + 16);
        l3.Store(y3 + c); h3.Store(y3 + c + 16);
    }

    /// <summary>
    /// a_j += s_j · low and b_j += s_j · high for j = 0..3: one row's 32 columns added, scaled, into four rows (one FMA
    /// per statement, accumulator last). Shared by the transposed products here and attention's weighted key sums.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void ScaledAdd4(Vector512<float> low, Vector512<float> high, float s0, float s1, float s2, float s3,
        ref Vector512<float> a0, ref Vector512<float> b0, ref Vector512<float> a1, ref Vector512<float> b1,
        ref Vector512<float> a2, ref Vector512<float> b2, ref Vector512<float> a3, ref Vector512<float> b3)
    {
        var s = Vector512.Create(s0);
        a0 = Vector512.FusedMultiplyAdd(s, low, a0);
        b0 = Vector512.FusedMultiplyAdd(s, high, b0);
        s = Vector512.Create(s1);
        a1 = Vector512.FusedMultiplyAdd(s, low, a1);
        b1 = Vector512.FusedMultiplyAdd(s, high, b1);
        s = Vector512.Create(s2);
        a2 = Vector512.FusedMultiplyAdd(s, low, a2);
        b2 = Vector512.FusedMultiplyAdd(s, high, b2);
        s = Vector512.Create(s3);
        a3 = Vector512.FusedMultiplyAdd(s, low, a3);
        b3 = Vector512.FusedMultiplyAdd(s, high, b3);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float TransposedScalar<TWeights>(TWeights weights, int rowStart, int rowCount, int c, float* input) where TWeights : struct, IWeightChunks
    {
        float sum = 0;
        for (int d = 0; d < rowCount; d++) sum = MathF.FusedMultiplyAdd(weights.Scalar(rowStart + d, c), input[d], sum);
        return sum;
    }

    /// <param name="xRows">Row of x for each token, or null for token i = row i.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply<TWeights>(
        TWeights weights, int rowStart, int rowEnd, int cols,
        float* x, long xStride, int* xRows, int tokens, float* y, long yStride, bool accumulate)
        where TWeights : struct, IWeightChunks
    {
        int r = rowStart;
        if (tokens >= PanelTokens)
        {
            // Widen each 4-row block to fp32 once and reuse it for every token block: the widening otherwise
            // repeats per 4 tokens and costs as much as the FMAs (2816x1024 bf16, 128 tokens: 71 -> 100 GFLOP/s on one core).
            var panel = new F32Chunks(WidenedPanel.Get(4 * cols), cols);
            // Tokens in blocks whose activations stay in L2 while every 4-row block of the range passes over them
            // (512 tokens of 1024 floats are 2 MiB). A 2816 x 1024 projection at 512 tokens, runs interleaved on a
            // noisy machine: 86-111 GFLOP/s without, 105 with.
            int block = Math.Max(4, TokenBlockBytes / (cols * sizeof(float)) / 4 * 4);
            for (int first = 0; first < tokens; first += block)
            {
                int last = Math.Min(tokens, first + block);
                for (r = rowStart; r + 4 <= rowEnd; r += 4)
                {
                    // The next rows' weights are asked for one row per 4-token block, spread over its FMAs: asked for
                    // all at once while widening, they queue behind the core's few outstanding misses (lm_head of
                    // bench-small at 16 tokens, 8 rounds alternating in one process, twice: 112 -> 132, 116 -> 154
                    // GFLOP/s; at 32 tokens 160 -> 173, 129 -> 142; 64 and 512 tokens unchanged within noise).
                    int quads = (last - first) / 4;
                    Widen(weights, r, cols, panel, prefetchFrom: Math.Min(4, quads));
                    int t = first;
                    for (int k = 0; k < quads; k++, t += 4)
                        PanelBlock4x4(panel, r, cols, x, xStride, xRows, t, y, yStride, accumulate, weights, k < 4 ? r + PrefetchRows + k : -1);
                    for (; t + 2 <= last; t += 2) Block4x2(panel, 0, r, cols, x, xStride, xRows, t, y, yStride, accumulate, prefetch: false);
                    if (t < last) Block4x1(panel, 0, r, cols, XRow(x, xStride, xRows, t), y, yStride, t, accumulate);
                }
            }
        }
        else if (tokens < 4)
        {
            // One to three tokens (decode, and most experts' share of a small batch): two 4-row blocks at a time, one
            // from each half of the range, since two weight streams in flight per core read faster than one (a 1 GiB
            // read in 2 KB rows on 2 Xeon vCPUs, 16 interleaved rounds: 1.05x median; batch-1 decode steps of
            // bench-small, 10-step blocks of each interleaved in one process: 1.03x and 1.07x median; a grouped gate/up
            // launch of 16 experts with 2 or 3 tokens each, 6 interleaved rounds: 1.16x and 1.18x median).
            int blocks = (rowEnd - rowStart) / 4, half = (blocks + 1) / 2, b = 0;
            for (; b + half < blocks; b++)
                TwoBlocks(weights, rowStart + 4 * b, rowStart + 4 * (b + half), cols, x, xStride, xRows, tokens, y, yStride, accumulate);
            if (b < half) OneBlock(weights, rowStart + 4 * b, cols, x, xStride, xRows, tokens, y, yStride, accumulate);
            r = rowStart + 4 * blocks;
        }
        else
        {
            // Four to seven tokens: one pass over each 4-row block.
            for (; r + 4 <= rowEnd; r += 4) OneBlock(weights, r, cols, x, xStride, xRows, tokens, y, yStride, accumulate);
        }
        for (; r < rowEnd; r++)
            for (int t = 0; t < tokens; t++) Store(y, yStride, t, r, Dot(weights, r, cols, XRow(x, xStride, xRows, t)), accumulate);
    }

    /// <summary>
    /// Weight rows r..r + 3 against every token, reading the weights (widened in registers) once for five to seven of
    /// them, else once for each four, two or one. In one pass, 5 to 7 tokens against bench-small's lm_head: 55 -> 74
    /// and 66 -> 85 GFLOP/s at 5 and 7 tokens; 32 experts' gate/up with 5, 6 or 7 tokens each: medians of 1.22x and
    /// 1.27x, 1.17x and 1.24x, 1.20x and 1.32x (6 rounds of 200 launches alternating, twice).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void OneBlock<TWeights>(
        TWeights weights, int r, int cols, float* x, long xStride, int* xRows, int tokens, float* y, long yStride, bool accumulate)
        where TWeights : struct, IWeightChunks
    {
        switch (tokens)
        {
            case 5: Block4xN<TWeights, FiveTokens>(weights, r, cols, x, xStride, xRows, y, yStride, accumulate); return;
            case 6: Block4xN<TWeights, SixTokens>(weights, r, cols, x, xStride, xRows, y, yStride, accumulate); return;
            case 7: Block4xN<TWeights, SevenTokens>(weights, r, cols, x, xStride, xRows, y, yStride, accumulate); return;
        }
        int t = 0;
        for (; t + 4 <= tokens; t += 4) Block4x4(weights, r, cols, x, xStride, xRows, t, y, yStride, accumulate);
        // Two tokens share each weight load (MoE experts see a few tokens each at moderate batch sizes).
        for (; t + 2 <= tokens; t += 2) Block4x2(weights, r, r, cols, x, xStride, xRows, t, y, yStride, accumulate, prefetch: true);
        if (t < tokens) Block4x1(weights, r, r, cols, XRow(x, xStride, xRows, t), y, yStride, t, accumulate);
    }

    /// <summary>
    /// Weight rows r..r + 3 against five to seven tokens in one pass (token k's results in row k of y): up to 28
    /// accumulators leave no registers for the activations, which the FMAs read from L1 (seven rows of 1024 columns are
    /// 28 KB). Each (row, token) in <see cref="Dot"/>'s order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4xN<TWeights, TTokens>(TWeights weights, int r, int cols, float* x, long xStride, int* xRows, float* y, long yStride, bool accumulate)
        where TWeights : struct, IWeightChunks
        where TTokens : struct, ITokenCount
    {
        float* x0 = XRow(x, xStride, xRows, 0), x1 = XRow(x, xStride, xRows, 1), x2 = XRow(x, xStride, xRows, 2);
        float* x3 = XRow(x, xStride, xRows, 3), x4 = XRow(x, xStride, xRows, 4);
        float* x5 = TTokens.Count > 5 ? XRow(x, xStride, xRows, 5) : x4, x6 = TTokens.Count > 6 ? XRow(x, xStride, xRows, 6) : x4;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a04 = default, a05 = default, a06 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default, a14 = default, a15 = default, a16 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a24 = default, a25 = default, a26 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default, a34 = default, a35 = default, a36 = default;
        int c = 0;
        for (; c + Chunk <= cols; c += Chunk)
        {
            PrefetchBlock(weights, r, c, PrefetchRows);
            weights.Load(r, c, out var low, out var high);
            Tokens<TTokens>(low, high, c, x0, x1, x2, x3, x4, x5, x6, ref a00, ref a01, ref a02, ref a03, ref a04, ref a05, ref a06);
            weights.Load(r + 1, c, out low, out high);
            Tokens<TTokens>(low, high, c, x0, x1, x2, x3, x4, x5, x6, ref a10, ref a11, ref a12, ref a13, ref a14, ref a15, ref a16);
            weights.Load(r + 2, c, out low, out high);
            Tokens<TTokens>(low, high, c, x0, x1, x2, x3, x4, x5, x6, ref a20, ref a21, ref a22, ref a23, ref a24, ref a25, ref a26);
            weights.Load(r + 3, c, out low, out high);
            Tokens<TTokens>(low, high, c, x0, x1, x2, x3, x4, x5, x6, ref a30, ref a31, ref a32, ref a33, ref a34, ref a35, ref a36);
        }
        StoreQuad(weights, r, r, c, cols, x0, y, accumulate, a00, a10, a20, a30);
        StoreQuad(weights, r, r, c, cols, x1, y + yStride, accumulate, a01, a11, a21, a31);
        StoreQuad(weights, r, r, c, cols, x2, y + 2 * yStride, accumulate, a02, a12, a22, a32);
        StoreQuad(weights, r, r, c, cols, x3, y + 3 * yStride, accumulate, a03, a13, a23, a33);
        StoreQuad(weights, r, r, c, cols, x4, y + 4 * yStride, accumulate, a04, a14, a24, a34);
        if (TTokens.Count > 5) StoreQuad(weights, r, r, c, cols, x5, y + 5 * yStride, accumulate, a05, a15, a25, a35);
        if (TTokens.Count > 6) StoreQuad(weights, r, r, c, cols, x6, y + 6 * yStride, accumulate, a06, a16, a26, a36);
    }

    /// <summary>One weight row's chunk at column c against <typeparamref name="TTokens"/>' activations (read from memory), each in <see cref="Dot"/>'s order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Tokens<TTokens>(Vector512<float> low, Vector512<float> high, int c,
        float* x0, float* x1, float* x2, float* x3, float* x4, float* x5, float* x6,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3,
        ref Vector512<float> a4, ref Vector512<float> a5, ref Vector512<float> a6)
        where TTokens : struct, ITokenCount
    {
        Token(low, high, x0 + c, ref a0);
        Token(low, high, x1 + c, ref a1);
        Token(low, high, x2 + c, ref a2);
        Token(low, high, x3 + c, ref a3);
        Token(low, high, x4 + c, ref a4);
        if (TTokens.Count > 5) Token(low, high, x5 + c, ref a5);
        if (TTokens.Count > 6) Token(low, high, x6 + c, ref a6);
    }

    /// <summary>One weight row's chunk against one token's activations (read from memory), in <see cref="Dot"/>'s order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Token(Vector512<float> low, Vector512<float> high, float* x, ref Vector512<float> a)
    {
        a = Vector512.FusedMultiplyAdd(low, Vector512.Load(x), a);
        a = Vector512.FusedMultiplyAdd(high, Vector512.Load(x + 16), a);
    }

    /// <summary>Weight rows r..r + 3 and s..s + 3 together against one to three tokens, each weight chunk loaded once for all of them.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void TwoBlocks<TWeights>(
        TWeights weights, int r, int s, int cols, float* x, long xStride, int* xRows, int tokens, float* y, long yStride, bool accumulate)
        where TWeights : struct, IWeightChunks
    {
        float* x0 = XRow(x, xStride, xRows, 0);
        if (tokens == 1) Block4x1Twice(weights, r, s, cols, x0, y, accumulate);
        else if (tokens == 2) Block4x2Twice(weights, r, s, cols, x0, XRow(x, xStride, xRows, 1), y, y + yStride, accumulate);
        else Block4x3Twice(weights, r, s, cols, x0, XRow(x, xStride, xRows, 1), XRow(x, xStride, xRows, 2), y, yStride, accumulate);
    }

    /// <summary>
    /// Rows [row, row + 4) of the weights as fp32 in <paramref name="panel"/>, asking on the way for the rows
    /// <see cref="PrefetchRows"/> ahead of its rows from <paramref name="prefetchFrom"/> on (the others are asked for by
    /// the token blocks).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Widen<TWeights>(TWeights weights, int row, int cols, F32Chunks panel, int prefetchFrom) where TWeights : struct, IWeightChunks
    {
        for (int i = 0; i < 4; i++)
        {
            float* target = panel.Row(i);
            int c = 0;
            for (; c + Chunk <= cols; c += Chunk)
            {
                if (i >= prefetchFrom) weights.Prefetch(row + PrefetchRows + i, c);
                weights.Load(row + i, c, out var low, out var high);
                low.Store(target + c);
                high.Store(target + c + 16);
            }
            for (; c < cols; c++) target[c] = weights.Scalar(row + i, c);
        }
    }

    /// <summary>Asks for chunk <paramref name="c"/> of the 4-row block <paramref name="ahead"/> rows after row <paramref name="r"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void PrefetchBlock<TWeights>(TWeights weights, int r, int c, int ahead) where TWeights : struct, IWeightChunks
    {
        weights.Prefetch(r + ahead, c);
        weights.Prefetch(r + ahead + 1, c);
        weights.Prefetch(r + ahead + 2, c);
        weights.Prefetch(r + ahead + 3, c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static float* XRow(float* x, long stride, int* rows, int t) => x + (rows == null ? t : rows[t]) * stride;

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Store(float* y, long stride, int t, int r, float value, bool accumulate)
    {
        float* p = y + t * stride + r;
        *p = accumulate ? *p + value : value;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float Dot<TWeights>(TWeights weights, int row, int cols, float* x) where TWeights : struct, IWeightChunks
    {
        var acc = Vector512<float>.Zero;
        int c = 0;
        for (; c + Chunk <= cols; c += Chunk)
        {
            weights.Load(row, c, out var low, out var high);
            acc = Vector512.FusedMultiplyAdd(low, Vector512.Load(x + c), acc);
            acc = Vector512.FusedMultiplyAdd(high, Vector512.Load(x + c + 16), acc);
        }
        return Finish(acc, weights, row, c, cols, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Finish<TWeights>(Vector512<float> acc, TWeights weights, int row, int c, int cols, float* x)
        where TWeights : struct, IWeightChunks
    {
        float sum = LaneSums.Of(acc);
        for (; c < cols; c++) sum = MathF.FusedMultiplyAdd(weights.Scalar(row, c), x[c], sum);
        return sum;
    }

    /// <summary>One weight row's chunk against four tokens, in the same FMA order as <see cref="Dot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Row(
        Vector512<float> low, Vector512<float> high,
        Vector512<float> x0l, Vector512<float> x0h, Vector512<float> x1l, Vector512<float> x1h,
        Vector512<float> x2l, Vector512<float> x2h, Vector512<float> x3l, Vector512<float> x3h,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
    {
        // One statement per FMA, accumulator last: the JIT then emits vfmadd231ps into the accumulator without copies.
        a0 = Vector512.FusedMultiplyAdd(low, x0l, a0);
        a1 = Vector512.FusedMultiplyAdd(low, x1l, a1);
        a2 = Vector512.FusedMultiplyAdd(low, x2l, a2);
        a3 = Vector512.FusedMultiplyAdd(low, x3l, a3);
        a0 = Vector512.FusedMultiplyAdd(high, x0h, a0);
        a1 = Vector512.FusedMultiplyAdd(high, x1h, a1);
        a2 = Vector512.FusedMultiplyAdd(high, x2h, a2);
        a3 = Vector512.FusedMultiplyAdd(high, x3h, a3);
    }

    /// <summary>
    /// Four weight rows against one token (the panel's odd token, the middle block of a few-token range): four
    /// independent accumulator chains hide the FMA latency that a single row's chain would expose, with each row's
    /// operations in <see cref="Dot"/>'s order.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x1<TWeights>(TWeights weights, int r, int outRow, int cols, float* x, float* y, long yStride, int t, bool accumulate)
        where TWeights : struct, IWeightChunks
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
        int c = 0;
        for (; c + Chunk <= cols; c += Chunk)
        {
            PrefetchBlock(weights, r, c, PrefetchRows);
            Quad(weights, r, c, Vector512.Load(x + c), Vector512.Load(x + c + 16), ref a0, ref a1, ref a2, ref a3);
        }
        StoreQuad(weights, r, outRow, c, cols, x, y + t * yStride, accumulate, a0, a1, a2, a3);
    }

    /// <summary>
    /// <see cref="Block4x1{TWeights}"/> for the rows from <paramref name="r"/> and from <paramref name="s"/> together
    /// (one token, results in place), each stream asking for weights half as far ahead.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x1Twice<TWeights>(TWeights weights, int r, int s, int cols, float* x, float* y, bool accumulate)
        where TWeights : struct, IWeightChunks
    {
        Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, b0 = default, b1 = default, b2 = default, b3 = default;
        int c = 0;
        for (; c + Chunk <= cols; c += Chunk)
        {
            PrefetchBlock(weights, r, c, PrefetchRows / 2);
            PrefetchBlock(weights, s, c, PrefetchRows / 2);
            var xl = Vector512.Load(x + c);
            var xh = Vector512.Load(x + c + 16);
            Quad(weights, r, c, xl, xh, ref a0, ref a1, ref a2, ref a3);
            Quad(weights, s, c, xl, xh, ref b0, ref b1, ref b2, ref b3);
        }
        StoreQuad(weights, r, r, c, cols, x, y, accumulate, a0, a1, a2, a3);
        StoreQuad(weights, s, s, c, cols, x, y, accumulate, b0, b1, b2, b3);
    }

    /// <summary><see cref="Block4x2{TWeights}"/> for the rows from <paramref name="r"/> and from <paramref name="s"/> together (two tokens, results in place).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x2Twice<TWeights>(TWeights weights, int r, int s, int cols, float* x0, float* x1, float* y0, float* y1, bool accumulate)
        where TWeights : struct, IWeightChunks
    {
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default, a30 = default, a31 = default;
        Vector512<float> b00 = default, b01 = default, b10 = default, b11 = default, b20 = default, b21 = default, b30 = default, b31 = default;
        int c = 0;
        for (; c + Chunk <= cols; c += Chunk)
        {
            PrefetchBlock(weights, r, c, PrefetchRows / 2);
            PrefetchBlock(weights, s, c, PrefetchRows / 2);
            var x0l = Vector512.Load(x0 + c); var x0h = Vector512.Load(x0 + c + 16);
            var x1l = Vector512.Load(x1 + c); var x1h = Vector512.Load(x1 + c + 16);
            QuadPair(weights, r, c, x0l, x0h, x1l, x1h, ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31);
            QuadPair(weights, s, c, x0l, x0h, x1l, x1h, ref b00, ref b01, ref b10, ref b11, ref b20, ref b21, ref b30, ref b31);
        }
        StoreQuad(weights, r, r, c, cols, x0, y0, accumulate, a00, a10, a20, a30);
        StoreQuad(weights, r, r, c, cols, x1, y1, accumulate, a01, a11, a21, a31);
        StoreQuad(weights, s, s, c, cols, x0, y0, accumulate, b00, b10, b20, b30);
        StoreQuad(weights, s, s, c, cols, x1, y1, accumulate, b01, b11, b21, b31);
    }

    /// <summary>
    /// <see cref="Block4x2Twice{TWeights}"/> for three tokens (results in rows y, y + yStride, y + 2 yStride): 24
    /// accumulators leave no registers for the activations, which the FMAs read from L1. A pair and then a single took
    /// a second pass over the weights with their widening (32 experts of bench-small's gate/up with 3 tokens each,
    /// medians of 200 launches alternating, 18 rounds in three runs: 1.18-1.69x, median 1.33x).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x3Twice<TWeights>(TWeights weights, int r, int s, int cols, float* x0, float* x1, float* x2, float* y, long yStride, bool accumulate)
        where TWeights : struct, IWeightChunks
    {
        Vector512<float> a00 = default, a01 = default, a02 = default, a10 = default, a11 = default, a12 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a30 = default, a31 = default, a32 = default;
        Vector512<float> b00 = default, b01 = default, b02 = default, b10 = default, b11 = default, b12 = default;
        Vector512<float> b20 = default, b21 = default, b22 = default, b30 = default, b31 = default, b32 = default;
        int c = 0;
        for (; c + Chunk <= cols; c += Chunk)
        {
            PrefetchBlock(weights, r, c, PrefetchRows / 2);
            PrefetchBlock(weights, s, c, PrefetchRows / 2);
            QuadTriple(weights, r, c, x0, x1, x2, ref a00, ref a01, ref a02, ref a10, ref a11, ref a12, ref a20, ref a21, ref a22, ref a30, ref a31, ref a32);
            QuadTriple(weights, s, c, x0, x1, x2, ref b00, ref b01, ref b02, ref b10, ref b11, ref b12, ref b20, ref b21, ref b22, ref b30, ref b31, ref b32);
        }
        StoreQuad(weights, r, r, c, cols, x0, y, accumulate, a00, a10, a20, a30);
        StoreQuad(weights, r, r, c, cols, x1, y + yStride, accumulate, a01, a11, a21, a31);
        StoreQuad(weights, r, r, c, cols, x2, y + 2 * yStride, accumulate, a02, a12, a22, a32);
        StoreQuad(weights, s, s, c, cols, x0, y, accumulate, b00, b10, b20, b30);
        StoreQuad(weights, s, s, c, cols, x1, y + yStride, accumulate, b01, b11, b21, b31);
        StoreQuad(weights, s, s, c, cols, x2, y + 2 * yStride, accumulate, b02, b12, b22, b32);
    }

    /// <summary>Rows r..r + 3's chunk at column c against three tokens (accumulators a{row}{token}).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void QuadTriple<TWeights>(TWeights weights, int r, int c, float* x0, float* x1, float* x2,
        ref Vector512<float> a00, ref Vector512<float> a01, ref Vector512<float> a02, ref Vector512<float> a10, ref Vector512<float> a11, ref Vector512<float> a12,
        ref Vector512<float> a20, ref Vector512<float> a21, ref Vector512<float> a22, ref Vector512<float> a30, ref Vector512<float> a31, ref Vector512<float> a32)
        where TWeights : struct, IWeightChunks
    {
        weights.Load(r, c, out var low, out var high);
        Token(low, high, x0 + c, ref a00); Token(low, high, x1 + c, ref a01); Token(low, high, x2 + c, ref a02);
        weights.Load(r + 1, c, out low, out high);
        Token(low, high, x0 + c, ref a10); Token(low, high, x1 + c, ref a11); Token(low, high, x2 + c, ref a12);
        weights.Load(r + 2, c, out low, out high);
        Token(low, high, x0 + c, ref a20); Token(low, high, x1 + c, ref a21); Token(low, high, x2 + c, ref a22);
        weights.Load(r + 3, c, out low, out high);
        Token(low, high, x0 + c, ref a30); Token(low, high, x1 + c, ref a31); Token(low, high, x2 + c, ref a32);
    }

    /// <summary>Rows r..r + 3's chunk at column c against one token, each row's two FMAs in <see cref="Dot"/>'s order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Quad<TWeights>(TWeights weights, int r, int c, Vector512<float> xl, Vector512<float> xh,
        ref Vector512<float> a0, ref Vector512<float> a1, ref Vector512<float> a2, ref Vector512<float> a3)
        where TWeights : struct, IWeightChunks
    {
        weights.Load(r, c, out var low, out var high);
        a0 = Vector512.FusedMultiplyAdd(low, xl, a0);
        a0 = Vector512.FusedMultiplyAdd(high, xh, a0);
        weights.Load(r + 1, c, out low, out high);
        a1 = Vector512.FusedMultiplyAdd(low, xl, a1);
        a1 = Vector512.FusedMultiplyAdd(high, xh, a1);
        weights.Load(r + 2, c, out low, out high);
        a2 = Vector512.FusedMultiplyAdd(low, xl, a2);
        a2 = Vector512.FusedMultiplyAdd(high, xh, a2);
        weights.Load(r + 3, c, out low, out high);
        a3 = Vector512.FusedMultiplyAdd(low, xl, a3);
        a3 = Vector512.FusedMultiplyAdd(high, xh, a3);
    }

    /// <summary>Finishes four rows' sums (columns past the last whole chunk included) into one token's outputs from <paramref name="outRow"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void StoreQuad<TWeights>(TWeights weights, int r, int outRow, int c, int cols, float* x, float* yRow, bool accumulate,
        Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3)
        where TWeights : struct, IWeightChunks
    {
        Store(yRow, 0, 0, outRow, Finish(a0, weights, r, c, cols, x), accumulate);
        Store(yRow, 0, 0, outRow + 1, Finish(a1, weights, r + 1, c, cols, x), accumulate);
        Store(yRow, 0, 0, outRow + 2, Finish(a2, weights, r + 2, c, cols, x), accumulate);
        Store(yRow, 0, 0, outRow + 3, Finish(a3, weights, r + 3, c, cols, x), accumulate);
    }

    /// <summary>
    /// Four weight rows against two tokens: each weight chunk is loaded (and widened) once, the FMAs in <see cref="Dot"/>'s
    /// order. Weights as in <see cref="Block4x4{TWeights}"/>: the fp32 panel (the GEMM path's odd pairs of tokens) or the matrix.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x2<TWeights>(
        TWeights weights, int r, int outRow, int cols, float* x, long xStride, int* xRows, int t, float* y, long yStride, bool accumulate, bool prefetch)
        where TWeights : struct, IWeightChunks
    {
        float* x0 = XRow(x, xStride, xRows, t), x1 = XRow(x, xStride, xRows, t + 1);
        Vector512<float> a00 = default, a01 = default, a10 = default, a11 = default;
        Vector512<float> a20 = default, a21 = default, a30 = default, a31 = default;
        int c = 0;
        for (; c + Chunk <= cols; c += Chunk)
        {
            if (prefetch) PrefetchBlock(weights, r, c, PrefetchRows);
            var x0l = Vector512.Load(x0 + c); var x0h = Vector512.Load(x0 + c + 16);
            var x1l = Vector512.Load(x1 + c); var x1h = Vector512.Load(x1 + c + 16);
            QuadPair(weights, r, c, x0l, x0h, x1l, x1h, ref a00, ref a01, ref a10, ref a11, ref a20, ref a21, ref a30, ref a31);
        }
        StoreQuad(weights, r, outRow, c, cols, x0, y + t * yStride, accumulate, a00, a10, a20, a30);
        StoreQuad(weights, r, outRow, c, cols, x1, y + (t + 1) * yStride, accumulate, a01, a11, a21, a31);
    }

    /// <summary>Rows r..r + 3's chunk at column c against two tokens (accumulators a{row}{token}).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void QuadPair<TWeights>(TWeights weights, int r, int c,
        Vector512<float> x0l, Vector512<float> x0h, Vector512<float> x1l, Vector512<float> x1h,
        ref Vector512<float> a00, ref Vector512<float> a01, ref Vector512<float> a10, ref Vector512<float> a11,
        ref Vector512<float> a20, ref Vector512<float> a21, ref Vector512<float> a30, ref Vector512<float> a31)
        where TWeights : struct, IWeightChunks
    {
        weights.Load(r, c, out var low, out var high);
        Pair(low, high, x0l, x0h, x1l, x1h, ref a00, ref a01);
        weights.Load(r + 1, c, out low, out high);
        Pair(low, high, x0l, x0h, x1l, x1h, ref a10, ref a11);
        weights.Load(r + 2, c, out low, out high);
        Pair(low, high, x0l, x0h, x1l, x1h, ref a20, ref a21);
        weights.Load(r + 3, c, out low, out high);
        Pair(low, high, x0l, x0h, x1l, x1h, ref a30, ref a31);
    }

    /// <summary>One weight row's chunk against two tokens, in <see cref="Dot"/>'s order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void Pair(
        Vector512<float> low, Vector512<float> high, Vector512<float> x0l, Vector512<float> x0h, Vector512<float> x1l, Vector512<float> x1h,
        ref Vector512<float> a0, ref Vector512<float> a1)
    {
        a0 = Vector512.FusedMultiplyAdd(low, x0l, a0);
        a1 = Vector512.FusedMultiplyAdd(low, x1l, a1);
        a0 = Vector512.FusedMultiplyAdd(high, x0h, a0);
        a1 = Vector512.FusedMultiplyAdd(high, x1h, a1);
    }

    /// <summary>
    /// Weight rows r..r + 3 against four tokens: 16 accumulators, reduced together by <see cref="LaneSums.Of16"/> in
    /// <see cref="Dot"/>'s order. For a handful of tokens the weights come from the matrix itself (widened in registers;
    /// no panel to write and read back), whose next rows it asks for on the way.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Block4x4<TWeights>(
        TWeights weights, int r, int cols, float* x, long xStride, int* xRows, int t, float* y, long yStride, bool accumulate)
        where TWeights : struct, IWeightChunks
    {
        float* x0 = XRow(x, xStride, xRows, t), x1 = XRow(x, xStride, xRows, t + 1);
        float* x2 = XRow(x, xStride, xRows, t + 2), x3 = XRow(x, xStride, xRows, t + 3);
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        int c = 0;
        for (; c + Chunk <= cols; c += Chunk)
        {
            PrefetchBlock(weights, r, c, PrefetchRows);
            var x0l = Vector512.Load(x0 + c); var x0h = Vector512.Load(x0 + c + 16);
            var x1l = Vector512.Load(x1 + c); var x1h = Vector512.Load(x1 + c + 16);
            var x2l = Vector512.Load(x2 + c); var x2h = Vector512.Load(x2 + c + 16);
            var x3l = Vector512.Load(x3 + c); var x3h = Vector512.Load(x3 + c + 16);
            weights.Load(r, c, out var low, out var high);
            Row(low, high, x0l, x0h, x1l, x1h, x2l, x2h, x3l, x3h, ref a00, ref a01, ref a02, ref a03);
            weights.Load(r + 1, c, out low, out high);
            Row(low, high, x0l, x0h, x1l, x1h, x2l, x2h, x3l, x3h, ref a10, ref a11, ref a12, ref a13);
            weights.Load(r + 2, c, out low, out high);
            Row(low, high, x0l, x0h, x1l, x1h, x2l, x2h, x3l, x3h, ref a20, ref a21, ref a22, ref a23);
            weights.Load(r + 3, c, out low, out high);
            Row(low, high, x0l, x0h, x1l, x1h, x2l, x2h, x3l, x3h, ref a30, ref a31, ref a32, ref a33);
        }
        StoreBlock(LaneSums.Of16(a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33),
            weights, r, r, c, cols, x, xStride, xRows, t, y, yStride, accumulate);
    }

    /// <summary>
    /// <see cref="Block4x4{TWeights}"/> over the GEMM path's fp32 panel, its four rows by pointer: the generic loads
    /// recompute each row's address for every chunk, integer work on the ports the FMAs use, which shows once the rows
    /// sit in L1 (2816x1024 GEMM on 2 workers, medians of 8 rounds alternating in one process, three runs: 1.17x,
    /// 1.05x, 1.17x at 512 tokens, 1.09x, 1.17x, 1.13x at 64).
    /// </summary>
    /// <param name="prefetchRow">A row of <paramref name="weights"/> to ask for chunk by chunk, or -1.</param>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void PanelBlock4x4<TWeights>(F32Chunks panel, int outRow, int cols, float* x, long xStride, int* xRows, int t, float* y, long yStride,
        bool accumulate, TWeights weights, int prefetchRow)
        where TWeights : struct, IWeightChunks
    {
        float* w0 = panel.Row(0), w1 = panel.Row(1), w2 = panel.Row(2), w3 = panel.Row(3);
        float* x0 = XRow(x, xStride, xRows, t), x1 = XRow(x, xStride, xRows, t + 1);
        float* x2 = XRow(x, xStride, xRows, t + 2), x3 = XRow(x, xStride, xRows, t + 3);
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default, a30 = default, a31 = default, a32 = default, a33 = default;
        int c = 0;
        for (; c + Chunk <= cols; c += Chunk)
        {
            if (prefetchRow >= 0) weights.Prefetch(prefetchRow, c);
            var x0l = Vector512.Load(x0 + c); var x0h = Vector512.Load(x0 + c + 16);
            var x1l = Vector512.Load(x1 + c); var x1h = Vector512.Load(x1 + c + 16);
            var x2l = Vector512.Load(x2 + c); var x2h = Vector512.Load(x2 + c + 16);
            var x3l = Vector512.Load(x3 + c); var x3h = Vector512.Load(x3 + c + 16);
            Row(Vector512.Load(w0 + c), Vector512.Load(w0 + c + 16), x0l, x0h, x1l, x1h, x2l, x2h, x3l, x3h, ref a00, ref a01, ref a02, ref a03);
            Row(Vector512.Load(w1 + c), Vector512.Load(w1 + c + 16), x0l, x0h, x1l, x1h, x2l, x2h, x3l, x3h, ref a10, ref a11, ref a12, ref a13);
            Row(Vector512.Load(w2 + c), Vector512.Load(w2 + c + 16), x0l, x0h, x1l, x1h, x2l, x2h, x3l, x3h, ref a20, ref a21, ref a22, ref a23);
            Row(Vector512.Load(w3 + c), Vector512.Load(w3 + c + 16), x0l, x0h, x1l, x1h, x2l, x2h, x3l, x3h, ref a30, ref a31, ref a32, ref a33);
        }
        StoreBlock(LaneSums.Of16(a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33),
            panel, 0, outRow, c, cols, x, xStride, xRows, t, y, yStride, accumulate);
    }

    /// <summary>
    /// Stores a 4-row x 4-token block's sums (lanes 4k..4k + 3: token t + k's sums of the four rows), adding the columns
    /// past the last whole chunk one scalar FMA each, as <see cref="Finish"/> does.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void StoreBlock<TWeights>(Vector512<float> sums, TWeights weights, int r, int outRow, int c, int cols,
        float* x, long xStride, int* xRows, int t, float* y, long yStride, bool accumulate)
        where TWeights : struct, IWeightChunks
    {
        if (c == cols)
        {
            StoreRows(sums.GetLower().GetLower(), y + t * yStride + outRow, accumulate);
            StoreRows(sums.GetLower().GetUpper(), y + (t + 1) * yStride + outRow, accumulate);
            StoreRows(sums.GetUpper().GetLower(), y + (t + 2) * yStride + outRow, accumulate);
            StoreRows(sums.GetUpper().GetUpper(), y + (t + 3) * yStride + outRow, accumulate);
            return;
        }
        float* partial = stackalloc float[16];
        sums.Store(partial);
        for (int k = 0; k < 4; k++)
        {
            float* xk = XRow(x, xStride, xRows, t + k);
            for (int i = 0; i < 4; i++)
            {
                float sum = partial[4 * k + i];
                for (int cc = c; cc < cols; cc++) sum = MathF.FusedMultiplyAdd(weights.Scalar(r + i, cc), xk[cc], sum);
                Store(y, yStride, t + k, outRow + i, sum, accumulate);
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static void StoreRows(Vector128<float> values, float* target, bool accumulate)
    {
        if (accumulate) values = Vector128.Load(target) + values;
        values.Store(target);
    }
}
