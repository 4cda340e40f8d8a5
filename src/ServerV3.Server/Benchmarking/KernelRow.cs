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

    /// <param name="passes">Passes the profile summed (launches and milliseconds are per pass; rates and shares need no division).</param>
    public static IReadOnlyList<KernelRow> From(KernelProfile profile, double peakFlopsPerSecond, double readBytesPerSecond, int passes = 1)
    {
        double total = profile.Total.TotalSeconds;
        return profile.Kernels.OrderByDescending(k => k.Value.Time).Select(k => new KernelRow
        {
            Kernel = k.Key,
            Launches = k.Value.Launches / passes,
            Milliseconds = Math.Round(k.Value.Time.TotalMilliseconds / passes, 3),
            Share = Math.Round(k.Value.Time.TotalSeconds / total, 4),
            GFlopsPerSecond = Math.Round(k.Value.FlopsPerSecond / 1e9, 2),
            GBytesPerSecond = Math.Round(k.Value.BytesPerSecond / 1e9, 2),
            FractionOfPeakFlops = Math.Round(k.Value.FlopsPerSecond / peakFlopsPerSecond, 4),
            FractionOfReadBandwidth = Math.Round(k.Value.BytesPerSecond / readBytesPerSecond, 4),
        }).ToList();
    }
}
