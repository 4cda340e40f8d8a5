using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Frontend;
using ServerV3.Kernels.Attention;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Rope;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// CPU SIMD body of <see cref="MlaKernels.ExpandedAttention"/>. A work item is one head and a tile of up to
/// <see cref="TileTokens"/> consecutive tokens: each block of <see cref="CpuAttention.BlockPositions"/> positions has
/// its keys ([k_nope | k_pe], from two buffers) copied once into a contiguous block and is then scored, weighted and
/// added for all the tile's tokens that see it, with <see cref="CpuAttention"/>'s block routines (two tokens share
/// each key load, four each value load). A token's arithmetic depends only on its own query and the keys: blocks
/// start at multiples of the block size, and positions past the token are weighted 0. A launch covers one
/// <see cref="ContextSegment"/>; between segments a tile's running maxima and sums wait in the state rows and its
/// unnormalised outputs in o.
/// </summary>
[SkipLocalsInit] // every stack buffer is written before it is read: zeroing them for each item would be wasted work
internal static unsafe class CpuExpandedAttention
{
    /// <summary>
    /// Tokens of a work item (they share each block's key copy). bench-small, 1024-token prefill, three interleaved
    /// rounds: the expanded attention took 352/377/422 ms with 16-token tiles, 334/361/376 with 32.
    /// </summary>
    public const int TileTokens = 32;

    /// <summary>Work items of a launch: every head of every tile.</summary>
    public static int Items(MlaShape shape) => shape.Heads * Tiles(shape);

    private static int Tiles(MlaShape shape) => (shape.Tokens + TileTokens - 1) / TileTokens;

    /// <summary>
    /// Work item <paramref name="item"/>: head after head, so that a worker's consecutive items read the same head's keys
    /// and values (a head's slice of a 512-position context is 320 KB and can stay in L2; against heads interleaved the
    /// 512-token prefill measured the same here, its 300 MB L3 holding every head), and within a head the last tiles
    /// first (causal attention makes them the dearest).
    /// </summary>
    [External("serverv3_expanded_attention_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Attend(
        Rows q, ArrayView<int> positions, RopeTables rope, Rows kv, Rows keyRope, Rows state, Rows o, MlaShape shape, ContextSegment segment, int item)
    {
        int tiles = Tiles(shape), head = item / tiles, tile = tiles - 1 - item % tiles;
        int first = tile * TileTokens, tokens = Math.Min(TileTokens, shape.Tokens - first);
        int qHead = shape.Nope + shape.Rope, kvHead = shape.Nope + shape.Value;
        const int block = CpuAttention.BlockPositions;
        // One line-aligned block for the vector buffers; each part is whole lines when
        // qHead and Value are multiples of 16 (DeepSeek-V3: 192 and 128).
        float* scratch = stackalloc float[TileTokens * qHead + block * qHead + TileTokens * shape.Value + TileTokens * block + CpuPointers.LinePadding];
        float* queries = CpuPointers.LineAligned(scratch);
        float* keyBlock = queries + TileTokens * qHead;
        float* output = keyBlock + block * qHead;
        float* scores = output + TileTokens * shape.Value;
        float** keys = stackalloc float*[block];
        float** values = stackalloc float*[block];
        float* maxima = stackalloc float[TileTokens];
        float* denominators = stackalloc float[TileTokens];
        float* corrections = stackalloc float[TileTokens];
        int* position = CpuPointers.Of(positions) + first;
        float* qData = CpuPointers.Of(q.Data) + q.Offset, kvData = CpuPointers.Of(kv.Data) + kv.Offset;
        float* ropeData = CpuPointers.Of(keyRope.Data) + keyRope.Offset;
        float* oData = CpuPointers.Of(o.Data) + o.Offset, stateData = CpuPointers.Of(state.Data) + state.Offset;
        for (int i = 0; i < tokens; i++)
        {
            float* source = qData + (long)(first + i) * q.Stride + head * qHead;
            new ReadOnlySpan<float>(source, shape.Nope).CopyTo(new Span<float>(queries + i * qHead, shape.Nope));
            CpuRope.Rotate(source + shape.Nope, queries + i * qHead + shape.Nope, rope, position[i], shape.Rope);
            var accumulator = new Span<float>(output + i * shape.Value, shape.Value);
            if (segment.First != 0)
            {
                accumulator.Clear();
                maxima[i] = float.NegativeInfinity;
                denominators[i] = 0;
                continue;
            }
            new ReadOnlySpan<float>(oData + (long)(first + i) * o.Stride + head * shape.Value, shape.Value).CopyTo(accumulator);
            float* saved = Saved(stateData, state.Stride, shape, first + i, head);
            maxima[i] = saved[0];
            denominators[i] = saved[1];
        }
        for (int i = 0; i < block; i++) keys[i] = keyBlock + i * qHead;
        int end = Math.Min(position[tokens - 1] + 1, segment.Start + segment.Length), active = 0;
        for (int start = segment.Start; start < end; start += block)
        {
            int count = Math.Min(block, end - start);
            for (int i = 0; i < count; i++)
            {
                long row = start - segment.Start + i;
                float* kvRow = kvData + row * kv.Stride + head * kvHead;
                new ReadOnlySpan<float>(kvRow, shape.Nope).CopyTo(new Span<float>(keys[i], shape.Nope));
                new ReadOnlySpan<float>(ropeData + row * keyRope.Stride, shape.Rope).CopyTo(new Span<float>(keys[i] + shape.Nope, shape.Rope));
                values[i] = kvRow + shape.Nope;
            }
            // Positions ascend through the tile: the tokens that see this block are its last ones.
            while (position[active] < start) active++;
            int seeing = tokens - active;
            float* activeScores = scores + active * block;
            CpuAttention.ScoreBlock(queries + active * qHead, qHead, seeing, keys, count, qHead, shape.SoftmaxScale, activeScores);
            for (int i = active; i < tokens; i++)
                for (int p = position[i] + 1 - start; p < count; p++) scores[i * block + p] = float.NegativeInfinity;
            CpuAttention.SoftmaxBlock(activeScores, seeing, count, maxima + active, denominators + active, corrections + active);
            CpuAttention.AccumulateBlock(output + active * shape.Value, shape.Value, seeing, values, activeScores, count, corrections + active, shape.Value);
        }
        for (int i = 0; i < tokens; i++)
        {
            if (segment.Last != 0)
            {
                CpuAttention.Normalize(output + i * shape.Value, denominators[i], shape.Value);
            }
            else
            {
                float* saved = Saved(stateData, state.Stride, shape, first + i, head);
                saved[0] = maxima[i];
                saved[1] = denominators[i];
            }
            new ReadOnlySpan<float>(output + i * shape.Value, shape.Value)
                .CopyTo(new Span<float>(oData + (long)(first + i) * o.Stride + head * shape.Value, shape.Value));
        }
    }

    /// <summary>Token <paramref name="token"/>'s softmax maximum and sum for head <paramref name="head"/> between segments.</summary>
    private static float* Saved(float* state, int stride, MlaShape shape, int token, int head) => state + ((long)token * shape.Heads + head) * stride;
}
