using System.Diagnostics;

namespace ServerV3.Kernels.Launch;

/// <summary>Launch counts and wall time per kernel, collected while a <see cref="KernelSet"/> is profiled.</summary>
public sealed class KernelProfile
{
    private readonly Dictionary<string, (long Launches, long Ticks)> kernels = [];

    public IReadOnlyDictionary<string, (long Launches, TimeSpan Time)> Kernels =>
        kernels.ToDictionary(k => k.Key, k => (k.Value.Launches, Stopwatch.GetElapsedTime(0, k.Value.Ticks)));

    public TimeSpan Total => Stopwatch.GetElapsedTime(0, kernels.Values.Sum(k => k.Ticks));

    public void Add(string kernel, long ticks)
    {
        kernels.TryGetValue(kernel, out var entry);
        kernels[kernel] = (entry.Launches + 1, entry.Ticks + ticks);
    }

    public void Clear() => kernels.Clear();
}
