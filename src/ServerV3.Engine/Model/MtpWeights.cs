using ILGPU;
using ILGPU.Runtime;
using ServerV3.Engine.Config;
using ServerV3.Engine.ModelLoading;
using ServerV3.Engine.Moe;
using ServerV3.Kernels.Weights;

namespace ServerV3.Engine.Model;

/// <summary>
/// The multi-token-prediction module at layer index num_hidden_layers. Its own embed_tokens and shared_head.head
/// are loaded when the checkpoint has them (they equal the main model's in released checkpoints).
/// </summary>
public sealed class MtpWeights : IDisposable
{
    public required WeightBuffer Embed { get; init; }
    public required MemoryBuffer1D<float, Stride1D.Dense> ENorm { get; init; }
    public required MemoryBuffer1D<float, Stride1D.Dense> HNorm { get; init; }
    public required WeightBuffer EhProj { get; init; }
    public required DecoderLayerWeights Layer { get; init; }
    public required MemoryBuffer1D<float, Stride1D.Dense> HeadNorm { get; init; }
    public required WeightBuffer Head { get; init; }

    public static MtpWeights Load(WeightLoader loader, ModelConfig c, ExpertSharding sharding)
    {
        int layer = c.NumHiddenLayers, hidden = c.HiddenSize;
        string prefix = $"model.layers.{layer}.";
        string embed = loader.Checkpoint.Contains($"{prefix}embed_tokens.weight") ? $"{prefix}embed_tokens.weight" : "model.embed_tokens.weight";
        string head = loader.Checkpoint.Contains($"{prefix}shared_head.head.weight") ? $"{prefix}shared_head.head.weight" : "lm_head.weight";
        return new MtpWeights
        {
            Embed = loader.Matrix(embed, c.VocabSize, hidden),
            ENorm = loader.Vector($"{prefix}enorm.weight", hidden),
            HNorm = loader.Vector($"{prefix}hnorm.weight", hidden),
            EhProj = loader.Matrix($"{prefix}eh_proj.weight", hidden, 2 * hidden),
            Layer = DecoderLayerWeights.Load(loader, c, layer, sharding),
            HeadNorm = loader.Vector($"{prefix}shared_head.norm.weight", hidden),
            Head = loader.Matrix(head, c.VocabSize, hidden),
        };
    }

    public void Dispose()
    {
        Embed.Dispose();
        ENorm.Dispose();
        HNorm.Dispose();
        EhProj.Dispose();
        Layer.Dispose();
        HeadNorm.Dispose();
        Head.Dispose();
    }
}
