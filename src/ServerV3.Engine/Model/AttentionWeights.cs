using ILGPU;
using ILGPU.Runtime;
using ServerV3.Engine.Config;
using ServerV3.Engine.ModelLoading;
using ServerV3.Kernels.Weights;

namespace ServerV3.Engine.Model;

/// <summary>One layer's MLA projections. Either QA/QANorm/QB (low-rank query) or QProj is present.</summary>
public sealed class AttentionWeights : IDisposable
{
    public WeightBuffer? QA { get; private init; }
    public MemoryBuffer1D<float, Stride1D.Dense>? QANorm { get; private init; }
    public WeightBuffer? QB { get; private init; }
    public WeightBuffer? QProj { get; private init; }
    public required WeightBuffer KvA { get; init; }
    public required MemoryBuffer1D<float, Stride1D.Dense> KvANorm { get; init; }
    public required WeightBuffer KvB { get; init; }
    public required WeightBuffer O { get; init; }

    public static AttentionWeights Load(WeightLoader loader, ModelConfig c, string prefix)
    {
        int heads = c.NumAttentionHeads, hidden = c.HiddenSize;
        int qRows = heads * c.QkHeadDim;
        bool lowRank = c.QLoraRank is not null;
        return new AttentionWeights
        {
            QA = lowRank ? loader.Matrix($"{prefix}q_a_proj.weight", c.QLoraRank!.Value, hidden) : null,
            QANorm = lowRank ? loader.Vector($"{prefix}q_a_layernorm.weight", c.QLoraRank!.Value) : null,
            QB = lowRank ? loader.Matrix($"{prefix}q_b_proj.weight", qRows, c.QLoraRank!.Value) : null,
            QProj = lowRank ? null : loader.Matrix($"{prefix}q_proj.weight", qRows, hidden),
            KvA = loader.Matrix($"{prefix}kv_a_proj_with_mqa.weight", c.LatentCacheWidth, hidden),
            KvANorm = loader.Vector($"{prefix}kv_a_layernorm.weight", c.KvLoraRank),
            KvB = loader.Matrix($"{prefix}kv_b_proj.weight", heads * (c.QkNopeHeadDim + c.VHeadDim), c.KvLoraRank),
            O = loader.Matrix($"{prefix}o_proj.weight", hidden, heads * c.VHeadDim),
        };
    }

    public void Dispose()
    {
        QA?.Dispose();
        QANorm?.Dispose();
        QB?.Dispose();
        QProj?.Dispose();
        KvA.Dispose();
        KvANorm.Dispose();
        KvB.Dispose();
        O.Dispose();
    }
}
