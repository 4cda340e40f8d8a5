using ILGPU;
using ILGPU.Runtime;
using ServerV3.Engine.Config;
using ServerV3.Engine.ModelLoading;
using ServerV3.Engine.Moe;
using ServerV3.Kernels.Weights;

namespace ServerV3.Engine.Model;

/// <summary>
/// All weights of a DeepSeek-V3 checkpoint, on the primary accelerator except the routed experts, which are spread
/// over the EP ranks.
/// </summary>
public sealed class ModelWeights : IDisposable
{
    public required WeightBuffer Embed { get; init; }
    public required IReadOnlyList<DecoderLayerWeights> Layers { get; init; }
    public required MemoryBuffer1D<float, Stride1D.Dense> FinalNorm { get; init; }
    public required WeightBuffer LmHead { get; init; }
    public MtpWeights? Mtp { get; private init; }

    /// <param name="loader">Loads onto the primary accelerator.</param>
    /// <param name="progress">Called after each layer with (layers done, layers total).</param>
    public static ModelWeights Load(WeightLoader loader, ModelConfig c, ExpertSharding sharding, Action<int, int>? progress = null)
    {
        int total = c.NumHiddenLayers + c.NumNextnPredictLayers;
        var layers = new List<DecoderLayerWeights>();
        try
        {
            var embed = loader.Matrix("model.embed_tokens.weight", c.VocabSize, c.HiddenSize);
            for (int layer = 0; layer < c.NumHiddenLayers; layer++)
            {
                layers.Add(DecoderLayerWeights.Load(loader, c, layer, sharding));
                progress?.Invoke(layer + 1, total);
            }
            var weights = new ModelWeights
            {
                Embed = embed,
                Layers = layers,
                FinalNorm = loader.Vector("model.norm.weight", c.HiddenSize),
                LmHead = loader.Matrix("lm_head.weight", c.VocabSize, c.HiddenSize),
                Mtp = c.NumNextnPredictLayers > 0 ? MtpWeights.Load(loader, c, sharding) : null,
            };
            progress?.Invoke(total, total);
            return weights;
        }
        catch
        {
            layers.ForEach(l => l.Dispose());
            throw;
        }
    }

    /// <summary>
    /// Weight bytes one decoded token reads from the main model: every attention and dense weight, the router, the
    /// shared experts and num_experts_per_tok routed experts per MoE layer, lm_head, and one embedding row.
    /// This over the memory bandwidth is the batch-1 decode floor.
    /// </summary>
    public long ActiveBytesPerToken(ModelConfig config)
    {
        long bytes = Embed.Bytes / config.VocabSize + LmHead.Bytes;
        foreach (var layer in Layers)
        {
            var a = layer.Attention;
            bytes += new[] { a.QA, a.QB, a.QProj, a.KvA, a.KvB, a.O }.Sum(w => w?.Bytes ?? 0);
            if (layer.Dense is { } dense) bytes += dense.Gate.Bytes + dense.Up.Bytes + dense.Down.Bytes;
            if (layer.Moe is { } moe)
            {
                bytes += moe.Router.Bytes + moe.Routed.BytesPerExpert * config.NumExpertsPerTok;
                if (moe.Shared is { } shared) bytes += shared.Gate.Bytes + shared.Up.Bytes + shared.Down.Bytes;
            }
        }
        return bytes;
    }

    public void Dispose()
    {
        Embed.Dispose();
        foreach (var layer in Layers) layer.Dispose();
        FinalNorm.Dispose();
        LmHead.Dispose();
        Mtp?.Dispose();
    }
}
