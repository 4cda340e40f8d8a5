using ILGPU;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// Scratch of a CPU attention launch in parts (<see cref="CpuKernels.AttentionInParts{TWeights}"/>): each segment's
/// unnormalised sums ([heads, latent] per part, parts numbered token after token) and softmax statistics ([heads]
/// maxima then [heads] denominators per part), and three counters per token, zeroed by the host before the launch:
/// heads whose query absorption was claimed, heads absorbed, segments finished.
/// </summary>
public readonly struct AttentionParts(Rows sums, ArrayView<float> statistics, ArrayView<int> counters, int tokens)
{
    public Rows Sums { get; } = sums;
    public ArrayView<float> Statistics { get; } = statistics;
    public ArrayView<int> Counters { get; } = counters;
    public int Tokens { get; } = tokens;

    public ArrayView<int> HeadsClaimed => Counters.SubView(0, Tokens);
    public ArrayView<int> HeadsAbsorbed => Counters.SubView(Tokens, Tokens);
    public ArrayView<int> SegmentsFinished => Counters.SubView(2 * Tokens, Tokens);
}
