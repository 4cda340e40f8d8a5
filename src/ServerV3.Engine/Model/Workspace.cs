using ILGPU;
using ILGPU.Runtime;
using ServerV3.Engine.Config;
using ServerV3.Engine.Runtime;

namespace ServerV3.Engine.Model;

/// <summary>
/// The per-step device buffers of the primary accelerator, sized once for the largest step so that steps never
/// allocate (the MoE layers' own buffers are in <see cref="Moe.ExpertParallelMoe"/>).
/// </summary>
internal sealed class Workspace : IDisposable
{
    private readonly DeviceBuffers buffers;

    public Workspace(Accelerator accelerator, ModelConfig c, ModelShapeOptions options, int maxBlocksPerSequence)
    {
        int t = options.MaxTokensPerStep, h = c.HiddenSize, heads = c.NumAttentionHeads;
        MaxBlocksPerSequence = maxBlocksPerSequence;
        buffers = new DeviceBuffers(accelerator);
        TokenIds = buffers.Allocate<int>(t);
        Positions = buffers.Allocate<int>(t);
        TokenSequence = buffers.Allocate<int>(t);
        BlockTables = buffers.Allocate<int>((long)options.MaxSequences * maxBlocksPerSequence);
        LogitRows = buffers.Allocate<int>(options.MaxLogitRows);
        SourceRows = buffers.Allocate<int>(t);
        Hidden = buffers.Allocate<float>((long)t * h);
        Normed = buffers.Allocate<float>((long)t * h);
        Final = buffers.Allocate<float>((long)t * h);
        Gathered = buffers.Allocate<float>((long)t * h);
        Concat = buffers.Allocate<float>((long)t * 2 * h);
        QLowRank = buffers.Allocate<float>((long)t * (c.QLoraRank ?? 0));
        Query = buffers.Allocate<float>((long)t * heads * c.QkHeadDim);
        KvLowRank = buffers.Allocate<float>((long)t * c.LatentCacheWidth);
        AbsorbedQuery = buffers.Allocate<float>((long)t * heads * c.LatentCacheWidth);
        LatentOut = buffers.Allocate<float>((long)t * heads * c.KvLoraRank);
        AttentionOut = buffers.Allocate<float>((long)t * heads * c.VHeadDim);
        Activation = buffers.Allocate<float>((long)t * Math.Max(c.IntermediateSize, c.NSharedExperts * c.MoeIntermediateSize));
        ActivationScratch = buffers.Allocate<float>((long)t * Math.Max(c.IntermediateSize, c.NSharedExperts * c.MoeIntermediateSize));
        Logits = buffers.Allocate<float>((long)options.MaxLogitRows * c.VocabSize);
        int expandedWidth = heads * (c.QkNopeHeadDim + c.VHeadDim);
        MaxExpandedRuns = t / options.ExpandedAttentionMinTokens;
        // Segments start at multiples of every attention body's block of positions (64 covers the CPU's 16 and the
        // portable 64), so a context in segments gives the same bits as in one.
        long budgetPositions = options.ExpandedAttentionBytes / (4L * (c.LatentCacheWidth + expandedWidth)) / SegmentAlignment * SegmentAlignment;
        long allPositions = (c.MaxPositionEmbeddings + SegmentAlignment - 1L) / SegmentAlignment * SegmentAlignment;
        ExpandedSegment = MaxExpandedRuns == 0 ? 0 : (int)Math.Clamp(budgetPositions, SegmentAlignment, allPositions);
        ContextSlots = buffers.Allocate<int>(Math.Max(1, (long)MaxExpandedRuns * c.MaxPositionEmbeddings));
        ContextLatent = buffers.Allocate<float>(Math.Max(1, (long)ExpandedSegment * c.LatentCacheWidth));
        ExpandedKv = buffers.Allocate<float>(Math.Max(1, (long)ExpandedSegment * expandedWidth));
        ExpandedState = buffers.Allocate<float>(Math.Max(1, (long)t * heads * 2));
    }

    private const int SegmentAlignment = 64;

    public int MaxBlocksPerSequence { get; }

    public MemoryBuffer1D<int, Stride1D.Dense> TokenIds { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> Positions { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> TokenSequence { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> BlockTables { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> LogitRows { get; }
    /// <summary>Rows of <see cref="Final"/> that feed the MTP module.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> SourceRows { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> Hidden { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> Normed { get; }
    /// <summary>The main model's hidden state after the final norm (lm_head's and the MTP module's input).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Final { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> Gathered { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> Concat { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> QLowRank { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> Query { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> KvLowRank { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> AbsorbedQuery { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> LatentOut { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> AttentionOut { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> Activation { get; }
    /// <summary>The up projection of the CPU SwiGLU body (same shape as <see cref="Activation"/>).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> ActivationScratch { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> Logits { get; }

    /// <summary>Expanded-attention runs a step can hold (each has at least the minimum tokens).</summary>
    public int MaxExpandedRuns { get; }
    /// <summary>Context positions expanded at once (the workspace's budget); longer contexts go in segments.</summary>
    public int ExpandedSegment { get; }
    /// <summary>Cache slots of each expanded run's context positions, run after run.</summary>
    public MemoryBuffer1D<int, Stride1D.Dense> ContextSlots { get; }
    /// <summary>One segment of an expanded run's context: its cache rows (latent, then rotated k_pe).</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> ContextLatent { get; }
    /// <summary>kv_b_proj over <see cref="ContextLatent"/>: [segment, heads * (nope + v)].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> ExpandedKv { get; }
    /// <summary>Each (token, head)'s softmax maximum and sum between segments: [tokens * heads, 2].</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> ExpandedState { get; }

    public void Dispose() => buffers.Dispose();
}
