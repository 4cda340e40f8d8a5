using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using ILGPU;
using ILGPU.Frontend;
using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Gemm;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Moe;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// CPU bodies of the weight-streaming kernels. ILGPU still owns the buffers and the launch; the workers take chunks of
/// the output rows from a <see cref="WorkQueue"/>; the inner loops are [External] SIMD helpers that ILGPU's CPU
/// accelerator runs as plain .NET code. The portable bodies (Gemm/, Activation/, Moe/) are what CUDA compiles;
/// both are tested against the same references.
/// </summary>
public static class CpuKernels
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Linear<TWeights>(TWeights weights, int matrix, Rows x, Rows y, LinearShape shape, WorkQueue queue)
        where TWeights : struct, IWeightMatrix
    {
        for (int c = queue.Take(); c < queue.Chunks; c = queue.Take())
            weights.MultiplyOnCpu(matrix, queue.Start(c, shape.OutFeatures), queue.Start(c + 1, shape.OutFeatures), x, default, 0, shape.Tokens, y, shape.Accumulate);
    }

    /// <summary>
    /// y = W · rmsnorm(x) and y2 = W2 · rmsnorm(x) (see <see cref="NormLinearKernels.NormLinear"/>). Every worker
    /// normalises all the tokens into its own rows of <paramref name="scratch"/> ([workers * tokens, in]) with RMSNorm's
    /// arithmetic and multiplies the chunks it takes of the
    /// two projections' rows taken end to end; then its slice of the tokens' latent cache writes, if any.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void NormLinear<TWeights>(
        TWeights weights, TWeights second, Rows x, ArrayView<float> normWeight, Rows scratch, Rows y, Rows y2, LatentCacheWrite latent,
        NormLinearShape shape, WorkQueue queue)
        where TWeights : struct, IWeightMatrix
    {
        var own = NormalizeIntoOwnRows(x, normWeight, scratch, shape);
        int outputs = shape.OutFeatures + shape.SecondOutFeatures;
        for (int c = queue.Take(); c < queue.Chunks; c = queue.Take())
        {
            int start = queue.Start(c, outputs), end = queue.Start(c + 1, outputs);
            if (start < shape.OutFeatures) weights.MultiplyOnCpu(0, start, Math.Min(end, shape.OutFeatures), own, default, 0, shape.Tokens, y, 0);
            if (end > shape.OutFeatures)
                second.MultiplyOnCpu(0, Math.Max(start, shape.OutFeatures) - shape.OutFeatures, end - shape.OutFeatures, own, default, 0, shape.Tokens, y2, 0);
        }
        CpuWorker.Slice(latent.Shape.Tokens, out int firstWrite, out int endWrite);
        CpuRowKernels.WriteLatentRows(latent, firstWrite, endWrite);
    }

    /// <summary>
    /// The MoE gate (see <see cref="MoeKernels.Gate"/>) over each worker's slice of the tokens: their normalised rows
    /// (RMSNorm's arithmetic), every expert's logit for them, their routing.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Gate<TWeights>(
        TWeights router, Rows x, ArrayView<float> normWeight, Rows normed, Rows logits, ArrayView<float> bias, Rows scratch, RouteOutput output, GateShape shape)
        where TWeights : struct, IWeightMatrix
    {
        CpuWorker.Slice(shape.Router.Tokens, out int start, out int end);
        if (start == end) return;
        CpuRowKernels.RmsNormRows(x, normed, normWeight, start, end, shape.Hidden, shape.Eps);
        router.MultiplyOnCpu(0, 0, shape.Router.Experts, normed.From(start), default, 0, end - start, logits.From(start), 0);
        CpuRouter.RouteRows(logits, bias, scratch, output, shape.Router, start, end);
    }

    /// <summary>
    /// act = silu(gate · n) * (up · n) with n = rmsnorm(x): every worker normalises all the tokens into its own rows of
    /// <paramref name="normScratch"/> ([workers * tokens, in], RMSNorm's arithmetic), then computes the chunks it takes of
    /// act's columns; the up projection goes through <paramref name="scratch"/> (same shape as act).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void GateUp<TWeights>(
        TWeights gate, TWeights up, Rows x, ArrayView<float> normWeight, Rows act, Rows scratch, Rows normScratch, NormLinearShape shape, WorkQueue queue)
        where TWeights : struct, IWeightMatrix
    {
        var own = NormalizeIntoOwnRows(x, normWeight, normScratch, shape);
        for (int c = queue.Take(); c < queue.Chunks; c = queue.Take())
            GateUpRows(gate, up, own, act, scratch, shape.Tokens, queue.Start(c, shape.OutFeatures), queue.Start(c + 1, shape.OutFeatures));
    }

    /// <summary>
    /// rmsnorm(x) for every token, with RMSNorm's arithmetic, into this worker's own rows of
    /// <paramref name="scratch"/> ([workers * tokens, in]): a fused launch's workers each need every normalised row and
    /// cannot wait for one another.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static Rows NormalizeIntoOwnRows(Rows x, ArrayView<float> normWeight, Rows scratch, NormLinearShape shape)
    {
        var own = scratch.From(CpuWorker.Index * shape.Tokens);
        CpuRowKernels.RmsNormRows(x, own, normWeight, 0, shape.Tokens, shape.InFeatures, shape.Eps);
        return own;
    }

    /// <summary>Rows [start, end) of act = silu(gate · x) * (up · x) for tokens [0, tokens).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void GateUpRows<TWeights>(TWeights gate, TWeights up, Rows x, Rows act, Rows scratch, int tokens, int start, int end)
        where TWeights : struct, IWeightMatrix
    {
        gate.MultiplyOnCpu(0, start, end, x, default, 0, tokens, act, 0);
        up.MultiplyOnCpu(0, start, end, x, default, 0, tokens, scratch, 0);
        SiluMul(act, scratch, 0, tokens, start, end);
    }

    /// <summary>
    /// The routed experts' act over their assignments and the shared experts' sharedAct over every token (the arithmetic
    /// of <see cref="GateUp{TWeights}"/>). The queue's first chunks are parts of the active experts' intermediate rows,
    /// expert by expert, at least <see cref="WorkQueue.Chunks"/> of them; the next <see cref="WorkQueue.Chunks"/>, when
    /// there are shared experts, ranges of theirs. A chunk of one expert reads long runs of its weights: ranges of
    /// every active expert's rows broke each one into short pieces whose first rows nobody had asked for ahead (32
    /// experts of bench-small's shape with 1, 2 or 4 tokens each, medians of 200 launches alternating, twice: 1.17x and
    /// 1.11x, 1.17x and 1.21x, 1.27x and 1.20x; 4 experts of 1 token 1.10x and 1.05x; 16 tokens routed at random with
    /// the shared expert 1.06x and 1.15x; whole decode steps of bench-small, 16 rounds of 8 alternating in one process:
    /// batch 1 1.02x and 0.99x, 4 1.06x, 8 1.01x, 16 1.00x and 1.02x).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExpertGateUp<TWeights>(
        TWeights gate, TWeights up, TWeights sharedGate, TWeights sharedUp, Rows x, ExpertAssignments assignments, Rows act, Rows scratch,
        Rows sharedAct, Rows sharedScratch, ExpertShape shape, SharedShape shared, WorkQueue queue)
        where TWeights : struct, IWeightMatrix
    {
        int active = ActiveExperts(assignments, shape.Experts);
        int parts = active == 0 ? 0 : (queue.Chunks + active - 1) / active, routed = active * parts;
        int chunks = routed + (shared.Tokens > 0 ? queue.Chunks : 0);
        for (int c = queue.Take(); c < chunks; c = queue.Take())
        {
            if (c >= routed)
            {
                int range = c - routed;
                GateUpRows(sharedGate, sharedUp, x, sharedAct, sharedScratch, shared.Tokens,
                    queue.Start(range, shared.Intermediate), queue.Start(range + 1, shared.Intermediate));
                continue;
            }
            int expert = ActiveExpert(assignments, c / parts), part = c % parts;
            int first = assignments.Offsets[expert], count = assignments.Offsets[expert + 1] - first;
            int start = WorkQueue.Boundary(part, parts, shape.Intermediate), end = WorkQueue.Boundary(part + 1, parts, shape.Intermediate);
            var tokens = assignments.Tokens.SubView(first, count);
            gate.MultiplyOnCpu(expert, start, end, x, tokens, 1, count, act.From(first), 0);
            up.MultiplyOnCpu(expert, start, end, x, tokens, 1, count, scratch.From(first), 0);
            SiluMul(act, scratch, first, first + count, start, end);
        }
    }

    /// <summary>Experts with at least one assignment.</summary>
    private static int ActiveExperts(ExpertAssignments assignments, int experts)
    {
        int active = 0;
        for (int e = 0; e < experts; e++)
            if (assignments.Offsets[e + 1] > assignments.Offsets[e]) active++;
        return active;
    }

    /// <summary>The expert with the <paramref name="index"/>-th (from 0) non-empty run of assignments.</summary>
    private static int ActiveExpert(ExpertAssignments assignments, int index)
    {
        int expert = 0;
        for (int seen = -1; ; expert++)
            if (assignments.Offsets[expert + 1] > assignments.Offsets[expert] && ++seen == index) return expert;
    }

    /// <summary>
    /// The routed experts' outputs over their assignments, hidden += the shared experts' down projection, and (when
    /// asked) the combine of the routed outputs into hidden. The hidden rows go in parts, at least one per worker; the
    /// queue hands out the shared experts' parts first, then every active expert's, expert by expert, so that a chunk
    /// reads a long run of one expert's weights and its activations once (chunks of a 128-row range of every expert
    /// re-read each expert's activations per range and started each 96 KB piece cold: bench-small's shape with the
    /// shared expert and the combine, medians of 8 rounds alternating in one process: 1.09x and 1.13x at 16 tokens,
    /// 1.08x at 512, 1.03x at 4, 1.00x and 0.93x at 1, where the run-to-run noise is as large; whole decode steps, 16
    /// rounds of 8 alternating: batch 16 0.98x and 1.03x, batch 1 1.00x). Each part's finished pieces are tallied,
    /// and the worker that ends a part's last one combines it: the combine reads only finished outputs and never runs
    /// beside the shared projection's additions to the same columns.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExpertDown<TWeights>(
        TWeights down, TWeights sharedDown, Rows act, Rows sharedAct, ExpertAssignments assignments, Rows output, Rows hidden,
        RoutedCombine combine, ExpertShape shape, SharedShape shared, WorkQueue queue)
        where TWeights : struct, IWeightMatrix
    {
        var c = combine.Shape;
        int active = ActiveExperts(assignments, shape.Experts);
        int parts = Math.Max(CpuWorker.Count, active == 0 ? 1 : (queue.Chunks + active - 1) / active);
        int sharedChunks = shared.Tokens > 0 ? parts : 0, chunks = sharedChunks + active * parts;
        // A part is done after every active expert's piece and the shared experts' (a lone rank routes every token it
        // combines, so each part has at least one piece to end it).
        int pieces = active + (shared.Tokens > 0 ? 1 : 0);
        for (int chunk = queue.Take(); chunk < chunks; chunk = queue.Take())
        {
            int part = chunk < sharedChunks ? chunk : (chunk - sharedChunks) % parts;
            int start = WorkQueue.Boundary(part, parts, shape.Hidden), end = WorkQueue.Boundary(part + 1, parts, shape.Hidden);
            if (chunk < sharedChunks)
            {
                sharedDown.MultiplyOnCpu(0, start, end, sharedAct, default, 0, shared.Tokens, hidden, 1);
            }
            else
            {
                int expert = ActiveExpert(assignments, (chunk - sharedChunks) / parts);
                int first = assignments.Offsets[expert], count = assignments.Offsets[expert + 1] - first;
                down.MultiplyOnCpu(expert, start, end, act.From(first), default, 0, count, output.From(first), 0);
            }
            if (c.Tokens > 0 && queue.Tally(part) == pieces)
                CpuRowKernels.CombineRows(combine.ExpertOutput, combine.ChoiceSlots, combine.Weights, combine.Hidden, c, 0, c.Tokens, start, end);
        }
    }

    /// <summary>
    /// The whole MLA attention of a layer in one launch (see <see cref="Attention.MlaKernels.Attention"/>). A work item is
    /// a group of <see cref="CpuAttention.GroupHeads"/> heads (<see cref="CpuAttention.WideGroupHeads"/> when the blocks
    /// give every worker two items or more) and a block of <see cref="AttentionTokens"/> tokens (<see cref="AbsorbTokens"/> in small launches): absorb
    /// the block's queries head by head (four tokens per W_UK load), attend them with the group's heads sharing each
    /// key load, expand their latents head by head (a GEMM over the block). Workers take items from the queue one at
    /// a time (causal prefill makes later tokens dearer, and a worker may start late). Every output's arithmetic is
    /// that of its own token and head, whatever the block, the worker or the batch.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attention<TWeights>(
        TWeights kvB, Rows q, ArrayView<int> positions, Rope.RopeTables rope, ArrayView<float> cache, Attention.PagedLayout layout,
        Rows qAbs, Rows latent, Rows o, Attention.MlaShape shape, WorkQueue queue)
        where TWeights : struct, IWeightMatrix
    {
        int blockTokens = shape.Tokens < 4 * AttentionTokens ? AbsorbTokens : AttentionTokens;
        int blocks = (shape.Tokens + blockTokens - 1) / blockTokens;
        int groupHeads = blocks >= 2 * CpuWorker.Count ? CpuAttention.WideGroupHeads : CpuAttention.GroupHeads;
        int groups = CpuAttention.Groups(shape, groupHeads);
        for (int item = queue.Take(); item < groups * blocks; item = queue.Take())
        {
            int group = item % groups, first = item / groups * blockTokens, count = Math.Min(blockTokens, shape.Tokens - first);
            int firstHead = group * groupHeads, lastHead = Math.Min(shape.Heads, firstHead + groupHeads);
            Absorb(kvB, q, positions, rope, qAbs, shape, firstHead, lastHead, first, count);
            CpuAttention.Attend(qAbs, cache, layout, latent, shape, firstHead, lastHead - firstHead, first, count);
            Expand(kvB, latent, o, shape, firstHead, lastHead, first, count);
        }
    }

    /// <summary>
    /// The attention of a few tokens over long contexts: a work item is one token's
    /// <see cref="CpuAttention.SegmentPositions"/>-position segment with all heads (each key read once, where head groups
    /// would each read it). The items of a token first absorb its queries together, each claiming the next head, and
    /// wait until every head is done; the worker that finishes the token's last segment folds its segments and expands
    /// its latents. The same bits as <see cref="Attention{TWeights}"/>, which folds the same segments in one pass.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AttentionInParts<TWeights>(
        TWeights kvB, Rows q, ArrayView<int> positions, Rope.RopeTables rope, ArrayView<float> cache, Attention.PagedLayout layout,
        Rows qAbs, Rows latent, Rows o, AttentionParts parts, Attention.MlaShape shape, WorkQueue queue)
        where TWeights : struct, IWeightMatrix
    {
        int items = 0;
        for (int t = 0; t < shape.Tokens; t++) items += CpuAttention.Segments(layout.Positions[t]);
        var claimed = parts.HeadsClaimed;
        var absorbed = parts.HeadsAbsorbed;
        for (int item = queue.Take(); item < items; item = queue.Take())
        {
            // The item's token and segment; parts are numbered token after token.
            int token = 0, firstPart = 0;
            while (item - firstPart >= CpuAttention.Segments(layout.Positions[token])) firstPart += CpuAttention.Segments(layout.Positions[token++]);
            for (int h = Atomic.Add(ref claimed[token], 1); h < shape.Heads; h = Atomic.Add(ref claimed[token], 1))
            {
                Absorb(kvB, q, positions, rope, qAbs, shape, h, h + 1, token, 1);
                Atomic.Add(ref absorbed[token], 1);
            }
            CpuAttention.AwaitCount(absorbed, token, shape.Heads);
            if (CpuAttention.AttendPart(qAbs, cache, layout, latent, parts, shape, token, item - firstPart, firstPart))
                Expand(kvB, latent, o, shape, 0, shape.Heads, token, 1);
        }
    }

    /// <summary>Tokens [first, first + count)'s queries of heads [firstHead, lastHead) absorbed by W_UK (four tokens per load), with the query's RoPE.</summary>
    private static void Absorb<TWeights>(
        TWeights kvB, Rows q, ArrayView<int> positions, Rope.RopeTables rope, Rows qAbs, Attention.MlaShape shape, int firstHead, int lastHead, int first, int count)
        where TWeights : struct, IWeightMatrix
    {
        int qHead = shape.Nope + shape.Rope, kvHead = shape.Nope + shape.Value;
        for (int h = firstHead; h < lastHead; h++)
        {
            // Row i of these views is token first + i's query of head h and its absorbed query.
            var x = new Rows(q.Data, q.Stride, q.Offset + first * q.Stride + h * qHead);
            var y = new Rows(qAbs.Data, qAbs.Stride * shape.Heads, qAbs.Offset + (first * shape.Heads + h) * qAbs.Stride);
            kvB.MultiplyTransposedOnCpu(0, h * kvHead, shape.Nope, x, y, count);
            CpuRope.RotateRows(x, shape.Nope, y, shape.Latent, positions, first, count, rope, shape.Rope);
        }
    }

    /// <summary>Tokens [first, first + count)'s attended latents of heads [firstHead, lastHead) expanded by W_UV into o (a GEMM per head).</summary>
    private static void Expand<TWeights>(TWeights kvB, Rows latent, Rows o, Attention.MlaShape shape, int firstHead, int lastHead, int first, int count)
        where TWeights : struct, IWeightMatrix
    {
        int kvHead = shape.Nope + shape.Value;
        for (int h = firstHead; h < lastHead; h++)
        {
            // Row i of x is token first + i's latent of head h; output column h * v + j is weight row row + j.
            int row = h * kvHead + shape.Nope;
            var x = new Rows(latent.Data, latent.Stride * shape.Heads, latent.Offset + (first * shape.Heads + h) * latent.Stride);
            var y = new Rows(o.Data, o.Stride, o.Offset + first * o.Stride + h * shape.Value - row);
            kvB.MultiplyOnCpu(0, row, row + shape.Value, x, default, 0, count, y, 0);
        }
    }

    /// <summary>
    /// One sequence's tokens attended in the expanded form (see <see cref="Attention.MlaKernels.ExpandedAttention"/>):
    /// workers take (head, token tile) items from the queue, the last tiles first.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ExpandedAttention(
        Rows q, ArrayView<int> positions, Rope.RopeTables rope, Rows kv, Rows keyRope, Rows state, Rows o, Attention.MlaShape shape,
        Attention.ContextSegment segment, WorkQueue queue)
    {
        int items = CpuExpandedAttention.Items(shape);
        for (int item = queue.Take(); item < items; item = queue.Take())
            CpuExpandedAttention.Attend(q, positions, rope, kv, keyRope, state, o, shape, segment, item);
    }

    /// <summary>Embedding rows of this worker's tokens (see <see cref="Embedding.EmbeddingKernels.Lookup{TWeights}"/>).</summary>
    public static void Lookup<TWeights>(TWeights table, ArrayView<int> tokenIds, Rows output, int tokens, int dim)
        where TWeights : struct, IWeightMatrix
    {
        CpuWorker.Slice(tokens, out int start, out int end);
        table.LookupOnCpu(tokenIds, start, end, output);
    }

    /// <summary>Tokens of one work item of <see cref="Attention{TWeights}"/>: their W_UK and W_UV stay in cache across them.</summary>
    private const int AttentionTokens = 16;

    /// <summary>
    /// Tokens of a work item in launches of fewer than 4 × <see cref="AttentionTokens"/> tokens (decode batches): one
    /// absorption block, so that the workers share more than two items. Batch 16 of bench-small, three interleaved
    /// rounds: 137.1 / 149.6 / 143.7 → 151.7 / 161.1 / 152.8 tokens/s.
    /// </summary>
    private const int AbsorbTokens = 4;

    /// <summary>
    /// act[t, c] = silu(act[t, c]) * up[t, c] over a block: the portable kernel's x / (1 + e^-x), 16 columns at a time with
    /// <see cref="VectorExp"/> (a row's last columns go through the same vector code, so a value does not depend on the
    /// block it falls in). A 512-token MoE gate/up launch of bench-small's shape with its shared expert, medians of 8
    /// rounds alternating in one process, twice: 145 -> 153 and 150 -> 174 GFLOP/s against libm's expf a value.
    /// </summary>
    [External("serverv3_silu_mul_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void SiluMul(Rows act, Rows up, int rowStart, int rowEnd, int colStart, int colEnd)
    {
        float* tail = stackalloc float[2 * 16];
        for (int t = rowStart; t < rowEnd; t++)
        {
            float* a = CpuPointers.Of(act.Data) + act.Offset + (long)t * act.Stride;
            float* u = CpuPointers.Of(up.Data) + up.Offset + (long)t * up.Stride;
            int c = colStart;
            for (; c + 16 <= colEnd; c += 16) SiluMul16(a + c, u + c, a + c);
            if (c == colEnd) continue;
            int rest = colEnd - c;
            new Span<float>(a + c, rest).CopyTo(new Span<float>(tail, 16));
            new Span<float>(u + c, rest).CopyTo(new Span<float>(tail + 16, 16));
            SiluMul16(tail, tail + 16, tail);
            new Span<float>(tail, rest).CopyTo(new Span<float>(a + c, rest));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe void SiluMul16(float* gate, float* up, float* output)
    {
        var g = Vector512.Load(gate);
        (g / (Vector512<float>.One + VectorExp.Of(-g)) * Vector512.Load(up)).Store(output);
    }
}
