using ILGPU;
using ILGPU.Runtime;
using ServerV3.Engine.Config;
using ServerV3.Engine.ModelLoading;
using ServerV3.Engine.Moe;

namespace ServerV3.Engine.Model;

/// <summary>One decoder block: attention, then either a dense MLP or an MoE.</summary>
public sealed class DecoderLayerWeights : IDisposable
{
    public required MemoryBuffer1D<float, Stride1D.Dense> InputNorm { get; init; }
    public required AttentionWeights Attention { get; init; }
    public required MemoryBuffer1D<float, Stride1D.Dense> PostAttentionNorm { get; init; }
    public MlpWeights? Dense { get; private init; }
    public MoeWeights? Moe { get; private init; }

    public static DecoderLayerWeights Load(WeightLoader loader, ModelConfig c, int layer, ExpertSharding sharding)
    {
        string prefix = $"model.layers.{layer}.";
        bool moe = c.IsMoeLayer(layer);
        return new DecoderLayerWeights
        {
            InputNorm = loader.Vector($"{prefix}input_layernorm.weight", c.HiddenSize),
            Attention = AttentionWeights.Load(loader, c, $"{prefix}self_attn."),
            PostAttentionNorm = loader.Vector($"{prefix}post_attention_layernorm.weight", c.HiddenSize),
            Dense = moe ? null : MlpWeights.Load(loader, $"{prefix}mlp.", c.HiddenSize, c.IntermediateSize),
            Moe = moe ? MoeWeights.Load(loader, c, $"{prefix}mlp.", sharding) : null,
        };
    }

    public void Dispose()
    {
        InputNorm.Dispose();
        Attention.Dispose();
        PostAttentionNorm.Dispose();
        Dense?.Dispose();
        Moe?.Dispose();
    }
}
