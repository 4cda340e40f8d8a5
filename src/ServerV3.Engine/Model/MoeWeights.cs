using ILGPU;
using ILGPU.Runtime;
using ServerV3.Engine.Config;
using ServerV3.Engine.ModelLoading;
using ServerV3.Kernels.Weights;

namespace ServerV3.Engine.Model;

/// <summary>A DeepSeekMoE layer: the router, the routed experts stacked per projection, and the shared experts.</summary>
public sealed class MoeWeights : IDisposable
{
    public required WeightBuffer Router { get; init; }
    public required MemoryBuffer1D<float, Stride1D.Dense> CorrectionBias { get; init; }
    public required WeightBuffer ExpertGate { get; init; }
    public required WeightBuffer ExpertUp { get; init; }
    public required WeightBuffer ExpertDown { get; init; }
    public MlpWeights? Shared { get; private init; }

    public static MoeWeights Load(WeightLoader loader, ModelConfig c, string prefix)
    {
        int hidden = c.HiddenSize, experts = c.NRoutedExperts, width = c.MoeIntermediateSize;
        string[] ExpertNames(string projection) =>
            Enumerable.Range(0, experts).Select(e => $"{prefix}experts.{e}.{projection}.weight").ToArray();
        return new MoeWeights
        {
            Router = loader.Matrix($"{prefix}gate.weight", experts, hidden),
            CorrectionBias = loader.Vector($"{prefix}gate.e_score_correction_bias", experts),
            ExpertGate = loader.Stack(ExpertNames("gate_proj"), width, hidden),
            ExpertUp = loader.Stack(ExpertNames("up_proj"), width, hidden),
            ExpertDown = loader.Stack(ExpertNames("down_proj"), hidden, width),
            Shared = c.NSharedExperts > 0 ? MlpWeights.Load(loader, $"{prefix}shared_experts.", hidden, c.NSharedExperts * width) : null,
        };
    }

    public void Dispose()
    {
        Router.Dispose();
        CorrectionBias.Dispose();
        ExpertGate.Dispose();
        ExpertUp.Dispose();
        ExpertDown.Dispose();
        Shared?.Dispose();
    }
}
