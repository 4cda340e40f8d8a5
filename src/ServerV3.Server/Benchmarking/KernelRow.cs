using System.Text.Json.Serialization;
using ServerV3.Kernels.Launch;

namespace ServerV3.Server.Benchmarking;

/// <summary>One kernel's line of the bench table: launches and time per pass, achieved rates, and their share of the measured ceilings.</summary>
public sealed record KernelRow
{
    [JsonPropertyName("kernel")] public required string Kernel { get; init; }
    [JsonPropertyName("launches")] public required long Launches { get; init; }
    [JsonPropertyName("ms")] public required double Milliseconds { get; init; }
    [JsonPropertyName("share")] public required double Share { get; init; }
    [JsonPropertyName("gflop_per_s")] public required double GFlopsPerSecond { get; init; }
    [JsonPropertyName("gb_per_s")] public required double GBytesPerSecond { get; init; }
    /// <summary>Achieved FLOP/s over the FMA peak.</summary>
    [JsonPropertyName("fraction_of_peak_flops")] public required double FractionOfPeakFlops { get; init; }
    /// <summary>Achieved bytes/s over the read-only bandwidth probe.</summary>
    [JsonPropertyName("fraction_of_read_bandwidth")] public required double FractionOfReadBandwidth { get; init; }

    /// <summary>
    /// The table of one or more profiled passes (decode steps of the same shape): each kernel's median over the passes of
    /// its time, launches and work (a kernel that most passes did not launch has no row), so that a pass in which the host took a core away (a single launch of tens of
    /// microseconds then takes milliseconds) does not move the row, as it would move a mean.
    /// </summary>
    public static IReadOnlyList<KernelRow> From(IReadOnlyList<KernelProfile> passes, double peakFlopsPerSecond, double readBytesPerSecond)
    {
        var medians = passes.SelectMany(p => p.Kernels.Keys).Distinct().Select(kernel =>
        {
            var stats = passes.Select(p => p.Kernels.GetValueOrDefault(kernel)).ToList();
            return (Kernel: kernel, Stats: new KernelStats(
                (long)Quantiles.Median(stats.Select(s => (double)s.Launches)), TimeSpan.FromTicks((long)Quantiles.Median(stats.Select(s => (double)s.Time.Ticks))),
                Quantiles.Median(stats.Select(s => s.Flops)), Quantiles.Median(stats.Select(s => s.Bytes))));
        }).Where(k => k.Stats.Launches > 0).OrderByDescending(k => k.Stats.Time).ToList();
        double total = medians.Sum(k => k.Stats.Time.TotalSeconds);
        return medians.Select(k => new KernelRow
        {
            Kernel = k.Kernel,
            Launches = k.Stats.Launches,
            Milliseconds = Math.Round(k.Stats.Time.TotalMilliseconds, 3),
            Share = total > 0 ? Math.Round(k.Stats.Time.TotalSeconds / total, 4) : 0,
            GFlopsPerSecond = Math.Round(k.Stats.FlopsPerSecond / 1e9, 2),
            GBytesPerSecond = Math.Round(k.Stats.BytesPerSecond / 1e9, 2),
            FractionOfPeakFlops = Math.Round(k.Stats.FlopsPerSecond / peakFlopsPerSecond, 4),
            FractionOfReadBandwidth = Math.Round(k.Stats.BytesPerSecond / readBytesPerSecond, 4),
        }).ToList();
    }
}
