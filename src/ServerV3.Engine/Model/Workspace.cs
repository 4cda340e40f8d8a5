using ILGPU;
using ILGPU.Runtime;
using ServerV3.Engine.Config;

namespace ServerV3.Engine.Model;

/// <summary>Every per-step device buffer, sized once for the largest step so that steps never allocate.</summary>
internal sealed class Workspace : IDisposable
{
    private readonly List<IDisposable> owned = [];

    public Workspace(Accelerator accelerator, ModelConfig c, ModelShapeOptions options, int maxBlocksPerSequence)
    {
        int t = options.MaxTokensPerStep, h = c.HiddenSize, heads = c.NumAttentionHeads;
        int choices = t * c.NumExpertsPerTok;
        MaxBlocksPerSequence = maxBlocksPerSequence;
        MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length) where T : unmanaged
        {
            var buffer = accelerator.Allocate1D<T>(Math.Max(length, 1));
            owned.Add(buffer);
            return buffer;
        }
        TokenIds = Allocate<int>(t);
        Positions = Allocate<int>(t);
        TokenSequence = Allocate<int>(t);
        BlockTables = Allocate<int>((long)options.MaxSequences * maxBlocksPerSequence);
        LogitRows = Allocate<int>(options.MaxLogitRows);
        SourceRows = Allocate<int>(t);
        Hidden = Allocate<float>((long)t * h);
        Normed = Allocate<float>((long)t * h);
        Final = Allocate<float>((long)t * h);
        Gathered = Allocate<float>((long)t * h);
        Concat = Allocate<float>((long)t * 2 * h);
        QLowRank = Allocate<float>((long)t * (c.QLoraRank ?? 0));
        Query = Allocate<float>((long)t * heads * c.QkHeadDim);
        KvLowRank = Allocate<float>((long)t * c.LatentCacheWidth);
        AbsorbedQuery = Allocate<float>((long)t * heads * c.LatentCacheWidth);
        LatentOut = Allocate<float>((long)t * heads * c.KvLoraRank);
        AttentionOut = Allocate<float>((long)t * heads * c.VHeadDim);
        Activation = Allocate<float>((long)t * Math.Max(c.IntermediateSize, c.NSharedExperts * c.MoeIntermediateSize));
        ActivationScratch = Allocate<float>((long)t * Math.Max(c.IntermediateSize, c.NSharedExperts * c.MoeIntermediateSize));
        RouterLogits = Allocate<float>((long)t * c.NRoutedExperts);
        RouterScratch = Allocate<float>((long)t * (c.NRoutedExperts + c.NGroup));
        ChosenExperts = Allocate<int>(choices);
        ChosenWeights = Allocate<float>(choices);
        ExpertOffsets = Allocate<int>(c.NRoutedExperts + 1);
        AssignedTokens = Allocate<int>(choices);
        ChoiceSlots = Allocate<int>(choices);
        ExpertActivation = Allocate<float>((long)choices * c.MoeIntermediateSize);
        ExpertActivationScratch = Allocate<float>((long)choices * c.MoeIntermediateSize);
        ExpertOutput = Allocate<float>((long)choices * h);
        Logits = Allocate<float>((long)options.MaxLogitRows * c.VocabSize);
    }

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
    public MemoryBuffer1D<float, Stride1D.Dense> RouterLogits { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> RouterScratch { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> ChosenExperts { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> ChosenWeights { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> ExpertOffsets { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> AssignedTokens { get; }
    public MemoryBuffer1D<int, Stride1D.Dense> ChoiceSlots { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> ExpertActivation { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> ExpertActivationScratch { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> ExpertOutput { get; }
    public MemoryBuffer1D<float, Stride1D.Dense> Logits { get; }

    public void Dispose() => owned.ForEach(b => b.Dispose());
}
