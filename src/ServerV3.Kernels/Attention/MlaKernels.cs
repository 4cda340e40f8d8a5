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
    public static void WriteLatent(Rows kva, ArrayView<float> normWeight, ArrayView<float> cache, PagedLayout layout, RopeTables rope, MlaShape shape)
    {
        int width = shape.Latent + shape.Rope;
        var slots = new Rows(cache, width);
        int end = WorkRange.End(shape.Tokens);
        for (int t = WorkRange.Start(shape.Tokens); t < end; t++)
        {
            int position = layout.Positions[t];
            int slot = (int)layout.Slot(layout.TokenSequence[t], position);
            float sumSquares = 0;
            for (int c = 0; c < shape.Latent; c++) sumSquares += kva[t, c] * kva[t, c];
            float inverseRms = 1f / MathF.Sqrt(sumSquares / shape.Latent + shape.Eps);
            for (int c = 0; c < shape.Latent; c++) slots[slot, c] = kva[t, c] * inverseRms * normWeight[c];
            for (int c = shape.Latent; c < width; c++) slots[slot, c] = kva[t, c];
            RopeKernels.Rotate(slots, slot, shape.Latent, position, rope, shape.Rope);
        }
    }

    /// <summary>
    /// qAbs[t * heads + h] = [q_nope[t, h] · W_UK[h] | q_pe[t, h]] (q_pe already rotated); a work item is one
    /// output element.
    /// </summary>
    public static void AbsorbQuery<TWeights>(TWeights kvB, Rows q, Rows qAbs, MlaShape shape)
        where TWeights : struct, IWeightMatrix
    {
        int width = shape.Latent + shape.Rope;
        int items = shape.Tokens * shape.Heads * width;
        int qHead = shape.Nope + shape.Rope, kvHead = shape.Nope + shape.Value;
        int end = WorkRange.End(items);
        for (int item = WorkRange.Start(items); item < end; item++)
        {
            int head = item / width, c = item % width;
            int t = head / shape.Heads, h = head % shape.Heads;
            if (c >= shape.Latent)
            {
                qAbs[head, c] = q[t, h * qHead + shape.Nope + c - shape.Latent];
                continue;
            }
            float sum = 0;
            for (int d = 0; d < shape.Nope; d++) sum += q[t, h * qHead + d] * kvB.Get(0, h * kvHead + d, c);
            qAbs[head, c] = sum;
        }
    }

    /// <summary>
    /// Causal attention of every (token, head) over its sequence's cached positions 0..position. A work item is
    /// one latent column of one (token, head): each recomputes the head's scores in the same fixed order (the
    /// GPU threads of a head read the same query and key, so the repeats cost little), which keeps every item
    /// independent of the others and of the launch shape.
    /// </summary>
    public static void Attend(Rows qAbs, ArrayView<float> cache, PagedLayout layout, Rows latentOut, MlaShape shape)
    {
        int width = shape.Latent + shape.Rope;
        var slots = new Rows(cache, width);
        int items = shape.Tokens * shape.Heads * shape.Latent;
        int end = WorkRange.End(items);
        for (int item = WorkRange.Start(items); item < end; item++)
        {
            int head = item / shape.Latent, column = item % shape.Latent;
            int t = head / shape.Heads;
            int sequence = layout.TokenSequence[t];
            // Online softmax in one fixed-order pass over the keys.
            float runningMax = float.NegativeInfinity, denominator = 0, accumulated = 0;
            for (int s = 0; s <= layout.Positions[t]; s++)
            {
                int slot = (int)layout.Slot(sequence, s);
                float score = 0;
                for (int c = 0; c < width; c++) score += qAbs[head, c] * slots[slot, c];
                score *= shape.SoftmaxScale;
                float newMax = MathF.Max(runningMax, score);
                float correction = MathF.Exp(runningMax - newMax), weight = MathF.Exp(score - newMax);
                denominator = denominator * correction + weight;
                accumulated = accumulated * correction + weight * slots[slot, column];
                runningMax = newMax;
            }
            latentOut[head, column] = accumulated / denominator;
        }
    }

    /// <summary>o[t, h * v + j] = W_UV[h][j] · latent[t * heads + h]; a work item is one output element.</summary>
    public static void ExpandValues<TWeights>(TWeights kvB, Rows latent, Rows o, MlaShape shape)
        where TWeights : struct, IWeightMatrix
    {
        int outputs = shape.Heads * shape.Value;
        int items = shape.Tokens * outputs;
        int kvHead = shape.Nope + shape.Value;
        int end = WorkRange.End(items);
        for (int item = WorkRange.Start(items); item < end; item++)
        {
            int t = item / outputs, output = item % outputs;
            int h = output / shape.Value, j = output % shape.Value;
            int row = h * kvHead + shape.Nope + j;
            float sum = 0;
            for (int c = 0; c < shape.Latent; c++) sum += kvB.Get(0, row, c) * latent[t * shape.Heads + h, c];
            o[t, output] = sum;
        }
    }
}

public readonly record struct MlaShape(
    int Tokens, int Heads, int Nope, int Rope, int Value, int Latent, float SoftmaxScale, float Eps);
