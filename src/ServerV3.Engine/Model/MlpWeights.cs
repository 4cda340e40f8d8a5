using ServerV3.Engine.ModelLoading;
using ServerV3.Kernels.Weights;

namespace ServerV3.Engine.Model;

/// <summary>A SwiGLU MLP: down(silu(gate(x)) * up(x)). Dense layers and the shared experts use it.</summary>
public sealed class MlpWeights : IDisposable
{
    public required WeightBuffer Gate { get; init; }
    public required WeightBuffer Up { get; init; }
    public required WeightBuffer Down { get; init; }

    public int Intermediate => Gate.Rows;

    public static MlpWeights Load(WeightLoader loader, string prefix, int hidden, int intermediate) => new()
    {
        Gate = loader.Matrix($"{prefix}gate_proj.weight", intermediate, hidden),
        Up = loader.Matrix($"{prefix}up_proj.weight", intermediate, hidden),
        Down = loader.Matrix($"{prefix}down_proj.weight", hidden, intermediate),
    };

    public void Dispose()
    {
        Gate.Dispose();
        Up.Dispose();
        Down.Dispose();
    }
}
