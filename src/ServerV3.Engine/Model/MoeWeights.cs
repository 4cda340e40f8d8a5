using ILGPU;
using ILGPU.Runtime;
using ServerV3.Engine.Config;
using ServerV3.Engine.ModelLoading;
using ServerV3.Engine.Moe;
using ServerV3.Kernels.Weights;

namespace ServerV3.Engine.Model;

/// <summary>A DeepSeekMoE layer: the router, the routed experts (spread over the EP ranks), and the shared experts.</summary>
public sealed class MoeWeights : IDisposable
{
    public required WeightBuffer Router { get; init; }
    public required MemoryBuffer1D<float, Stride1D.Dense> CorrectionBias { get; init; }
    public required RoutedExperts Routed { get; init; }
    public MlpWeights? Shared { get; private init; }

    /// <param name="loader">Loads onto the primary (router, shared experts).</param>
    public static MoeWeights Load(WeightLoader loader, ModelConfig c, string prefix, ExpertSharding sharding)
    {
        int hidden = c.HiddenSize, experts = c.NRoutedExperts;
        return new MoeWeights
        {
            Router = loader.Matrix($"{prefix}gate.weight", experts, hidden),
            CorrectionBias = loader.Vector($"{prefix}gate.e_score_correction_bias", experts),
            Routed = RoutedExperts.Load(sharding, c, prefix),
            Shared = c.NSharedExperts > 0 ? MlpWeights.Load(loader, $"{prefix}shared_experts.", hidden, c.NSharedExperts * c.MoeIntermediateSize) : null,
        };
    }

    public void Dispose()
    {
        Router.Dispose();
        CorrectionBias.Dispose();
        Routed.Dispose();
        Shared?.Dispose();
    }
}
