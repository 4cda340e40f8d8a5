using ILGPU;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Rope;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Attention;

/// <summary>
/// Multi-head latent attention in the weight-absorbed form. The cache holds, per token, the normalised latent
/// c_kv (Latent values) followed by the rotated shared key k_pe (Rope values). For head h the query is absorbed
/// into latent space (q_nope · W_UK[h]), scored against c_kv plus q_pe · k_pe, and the attended latent is
/// expanded by W_UV[h]; W_UK and W_UV are the row blocks of kv_b_proj ([k_nope | v] per head).
/// </summary>
public static class MlaKernels
{
    /// <summary>Normalises c_kv, rotates k_pe and stores both in each token's cache slot.</summary>
    public static void WriteLatent(LatentCacheWrite write)
    {
        int end = WorkRange.End(write.Shape.Tokens);
        for (int t = WorkRange.Start(write.Shape.Tokens); t < end; t++) WriteLatentToken(write, t);
    }

    /// <summary>Token t's cache slot: normalised c_kv then rotated k_pe, in sequential order (one thread).</summary>
    public static void WriteLatentToken(LatentCacheWrite write, int t)
    {
        var shape = write.Shape;
        int width = shape.Latent + shape.Rope;
        var slots = new Rows(write.Cache, width);
        var kva = write.Kva;
        int position = write.Layout.Positions[t];
        int slot = (int)write.Layout.Slot(write.Layout.TokenSequence[t], position);
        float sumSquares = 0;
        for (int c = 0; c < shape.Latent; c++) sumSquares += kva[t, c] * kva[t, c];
        float inverseRms = 1f / MathF.Sqrt(sumSquares / shape.Latent + shape.Eps);
        for (int c = 0; c < shape.Latent; c++) slots[slot, c] = kva[t, c] * inverseRms * write.NormWeight[c];
        for (int c = shape.Latent; c < width; c++) slots[slot, c] = kva[t, c];
        RopeKernels.Rotate(slots, slot, shape.Latent, position, write.Rope, shape.Rope);
    }

    /// <summary>Cached positions one group scores together; on a GPU also the group size of <see cref="Attention"/>.</summary>
    public const int AttendBlock = 64;

    /// <summary>
    /// The whole MLA attention of a layer in one launch: for every (token, head), the absorbed query
    /// qAbs = [q_nope · W_UK[h] | rope(q_pe)], causal attention over the sequence's cached positions 0..position into
    /// the latent, and o[t, h * v + j] = W_UV[h][j] · latent. qAbs and latent are the kernel's scratch rows
    /// ([tokens * heads, ...]). A group owns a (token, head): its threads absorb the query columns in turn, walk the
    /// keys in blocks of <see cref="AttendBlock"/> (scoring the block's positions one each, then weighting them and
    /// adding the block into the latent columns they own, rescaling what came before: online softmax, one rescale per
    /// block), then expand the value columns in turn. The block's max and weight sum are taken by every thread in
    /// position order, so the result does not depend on the group size: the CPU accelerator runs groups of one thread
    /// and gets the same arithmetic.
    /// </summary>
    public static void Attention<TWeights>(
        TWeights kvB, Rows q, ArrayView<int> positions, RopeTables rope, ArrayView<float> cache, PagedLayout layout,
        Rows qAbs, Rows latentOut, Rows o, MlaShape shape)
        where TWeights : struct, IWeightMatrix
    {
        var scores = SharedMemory.Allocate<float>(AttendBlock);
        var weights = SharedMemory.Allocate<float>(AttendBlock);
        var blockSlots = SharedMemory.Allocate<int>(AttendBlock);
        int width = shape.Latent + shape.Rope, qHead = shape.Nope + shape.Rope, kvHead = shape.Nope + shape.Value;
        var slots = new Rows(cache, width);
        int lane = Group.IdxX, lanes = Group.DimX, pairs = shape.Tokens * shape.Heads;
        // Loop bounds are uniform within a group, so every thread reaches every barrier.
        for (int head = Grid.IdxX; head < pairs; head += Grid.DimX)
        {
            int t = head / shape.Heads, h = head % shape.Heads;
            for (int c = lane; c < width; c += lanes)
            {
                float value;
                if (c < shape.Latent)
                {
                    value = 0;
                    for (int d = 0; d < shape.Nope; d++) value += q[t, h * qHead + d] * kvB.Get(0, h * kvHead + d, c);
                }
                else
                {
                    value = RopeKernels.Rotated(q, t, h * qHead + shape.Nope, c - shape.Latent, positions[t], rope, shape.Rope);
                }
                qAbs[head, c] = value;
            }
            Group.Barrier(); // every score reads the whole absorbed query
            int sequence = layout.TokenSequence[t], keys = layout.Positions[t] + 1;
            for (int c = lane; c < shape.Latent; c += lanes) latentOut[head, c] = 0;
            var softmax = OnlineSoftmax.Start;
            for (int first = 0; first < keys; first += AttendBlock)
            {
                int count = Math.Min(AttendBlock, keys - first);
                for (int i = lane; i < count; i += lanes)
                {
                    int slot = (int)layout.Slot(sequence, first + i);
                    float score = 0;
                    for (int c = 0; c < width; c++) score += qAbs[head, c] * slots[slot, c];
                    scores[i] = score * shape.SoftmaxScale;
                    blockSlots[i] = slot;
                }
                Group.Barrier();
                softmax = OnlineSoftmax.Step(softmax, scores, weights, count);
                for (int c = lane; c < shape.Latent; c += lanes)
                {
                    float accumulated = 0;
                    for (int i = 0; i < count; i++) accumulated += weights[i] * slots[blockSlots[i], c];
                    latentOut[head, c] = latentOut[head, c] * softmax.Correction + accumulated;
                }
                Group.Barrier(); // the next block overwrites scores, weights and slots
            }
            for (int c = lane; c < shape.Latent; c += lanes) latentOut[head, c] /= softmax.Denominator;
            Group.Barrier(); // every value reads the whole latent
            for (int j = lane; j < shape.Value; j += lanes)
            {
                float sum = 0;
                for (int c = 0; c < shape.Latent; c++) sum += kvB.Get(0, h * kvHead + shape.Nope + j, c) * latentOut[head, c];
                o[t, h * shape.Value + j] = sum;
            }
        }
    }

    /// <summary>
    /// Causal attention of one sequence's consecutive tokens in the expanded form (DeepSeek's "naive" MLA, the form
    /// vLLM and SGLang use for long prefills): per head, keys [k_nope | k_pe] and values v come from
    /// <paramref name="kv"/> ([positions, heads * (nope + v)], kv_b_proj applied to the cached latents) and
    /// <paramref name="keyRope"/> (the cached, rotated k_pe), so a score costs nope + rope multiply-adds instead of
    /// latent + rope, and no query absorption or value expansion is needed. Token t is at positions[t] and sees
    /// positions 0..positions[t]; this launch covers the context positions of <paramref name="segment"/> (rows 0.. of kv
    /// and keyRope), carrying each (token, head)'s softmax in <paramref name="state"/> ([tokens * heads, 2]: maximum,
    /// sum) and its unnormalised output in o between segments. <paramref name="query"/> is scratch ([tokens * heads,
    /// nope + rope]): the query with q_pe rotated. A group owns a (token, head) and walks the keys in blocks of
    /// <see cref="AttendBlock"/> as <see cref="Attention{TWeights}"/> does, with the output's value columns as its accumulator.
    /// </summary>
    public static void ExpandedAttention(
        Rows q, ArrayView<int> positions, RopeTables rope, Rows kv, Rows keyRope, Rows query, Rows state, Rows o, MlaShape shape, ContextSegment segment)
    {
        var scores = SharedMemory.Allocate<float>(AttendBlock);
        var weights = SharedMemory.Allocate<float>(AttendBlock);
        int qHead = shape.Nope + shape.Rope, kvHead = shape.Nope + shape.Value;
        int lane = Group.IdxX, lanes = Group.DimX, pairs = shape.Tokens * shape.Heads;
        // Loop bounds are uniform within a group, so every thread reaches every barrier.
        for (int head = Grid.IdxX; head < pairs; head += Grid.DimX)
        {
            int t = head / shape.Heads, h = head % shape.Heads, outAt = h * shape.Value;
            for (int c = lane; c < qHead; c += lanes)
            {
                query[head, c] = c < shape.Nope
                    ? q[t, h * qHead + c]
                    : RopeKernels.Rotated(q, t, h * qHead + shape.Nope, c - shape.Nope, positions[t], rope, shape.Rope);
            }
            if (segment.First != 0)
                for (int j = lane; j < shape.Value; j += lanes) o[t, outAt + j] = 0;
            Group.Barrier(); // every score reads the whole query
            var softmax = segment.First != 0 ? OnlineSoftmax.Start : new OnlineSoftmax(state[head, 0], state[head, 1], 0);
            int end = Math.Min(positions[t] + 1, segment.Start + segment.Length);
            for (int first = segment.Start; first < end; first += AttendBlock)
            {
                int count = Math.Min(AttendBlock, end - first), row = first - segment.Start;
                for (int i = lane; i < count; i += lanes)
                {
                    float score = 0;
                    for (int d = 0; d < shape.Nope; d++) score += query[head, d] * kv[row + i, h * kvHead + d];
                    for (int d = 0; d < shape.Rope; d++) score += query[head, shape.Nope + d] * keyRope[row + i, d];
                    scores[i] = score * shape.SoftmaxScale;
                }
                Group.Barrier();
                softmax = OnlineSoftmax.Step(softmax, scores, weights, count);
                for (int j = lane; j < shape.Value; j += lanes)
                {
                    float accumulated = 0;
                    for (int i = 0; i < count; i++) accumulated += weights[i] * kv[row + i, h * kvHead + shape.Nope + j];
                    o[t, outAt + j] = o[t, outAt + j] * softmax.Correction + accumulated;
                }
                Group.Barrier(); // the next block overwrites scores and weights
            }
            if (segment.Last != 0)
            {
                for (int j = lane; j < shape.Value; j += lanes) o[t, outAt + j] /= softmax.Denominator;
            }
            else if (lane == 0)
            {
                state[head, 0] = softmax.Max;
                state[head, 1] = softmax.Denominator;
            }
        }
    }
}

/// <summary>
/// The latent cache write of a step: kva ([tokens, latent + rope], kv_a's output) normalised (c_kv) and rotated
/// (k_pe) into each token's slot. Shape.Tokens 0: nothing to write.
/// </summary>
public readonly struct LatentCacheWrite(Rows kva, ArrayView<float> normWeight, ArrayView<float> cache, PagedLayout layout, RopeTables rope, MlaShape shape)
{
    public Rows Kva { get; } = kva;
    public ArrayView<float> NormWeight { get; } = normWeight;
    public ArrayView<float> Cache { get; } = cache;
    public PagedLayout Layout { get; } = layout;
    public RopeTables Rope { get; } = rope;
    public MlaShape Shape { get; } = shape;
}

public readonly record struct MlaShape(
    int Tokens, int Heads, int Nope, int Rope, int Value, int Latent, float SoftmaxScale, float Eps);
