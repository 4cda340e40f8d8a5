using System.Diagnostics;

namespace ServerV3.Kernels.Launch;

/// <summary>
/// Launch counts, wall time, floating-point operations and bytes moved per kernel, collected while a
/// <see cref="KernelSet"/> is profiled. Work is counted from the host-known sizes of each launch: weights read
/// plus activations read and written for bytes, two per multiply-add for FLOPs (zero where a kernel does no
/// matrix arithmetic).
/// </summary>
public sealed class KernelProfile
{
    private readonly Dictionary<string, KernelStats> kernels = [];

    public IReadOnlyDictionary<string, KernelStats> Kernels => kernels;

    public void Add(string kernel, long stopwatchTicks, double flops, double bytes)
    {
        kernels.TryGetValue(kernel, out var entry);
        kernels[kernel] = new KernelStats(
            entry.Launches + 1, entry.Time + Stopwatch.GetElapsedTime(0, stopwatchTicks), entry.Flops + flops, entry.Bytes + bytes);
    }
}
