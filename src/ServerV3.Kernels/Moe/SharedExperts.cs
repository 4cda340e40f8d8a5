using ILGPU;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Moe;

/// <summary>
/// An MoE layer's shared experts, run inside the routed experts' grouped launches on the primary: every token
/// [0, Tokens) of x through down(silu(gate · x) * (up · x)), added to Hidden. Act and Scratch hold [Tokens, Gate.Rows].
/// </summary>
public readonly record struct SharedExperts(WeightBuffer Gate, WeightBuffer Up, WeightBuffer Down, Rows Act, Rows Scratch, Rows Hidden, int Tokens);

/// <summary>The shared experts' part of a grouped launch (Tokens 0: none).</summary>
public readonly record struct SharedShape(int Tokens, int Intermediate)
{
    public static SharedShape Of(SharedExperts? shared) => new(shared?.Tokens ?? 0, shared?.Gate.Rows ?? 0);
}

/// <summary>
/// The combine hidden[t] += Σ_k weight[t, k] · expertOutput[slot of (t, k)] run in the expert down launch (on the CPU,
/// whose workers own whole columns of every output; a GPU launches it after).
/// </summary>
public readonly struct RoutedCombine(Rows expertOutput, ArrayView<int> choiceSlots, ArrayView<float> weights, Rows hidden, CombineShape shape)
{
    public Rows ExpertOutput { get; } = expertOutput;
    public ArrayView<int> ChoiceSlots { get; } = choiceSlots;
    public ArrayView<float> Weights { get; } = weights;
    public Rows Hidden { get; } = hidden;
    public CombineShape Shape { get; } = shape;
}
