using System.Text.Json.Serialization;

namespace ServerV3.Server.Benchmarking;

/// <summary>Mean and percentiles (<see cref="Quantiles"/>) of a latency in milliseconds; all zero for no values.</summary>
public sealed record LatencySummary
{
    [JsonPropertyName("mean")] public required double Mean { get; init; }
    [JsonPropertyName("p50")] public required double P50 { get; init; }
    [JsonPropertyName("p90")] public required double P90 { get; init; }
    [JsonPropertyName("p99")] public required double P99 { get; init; }

    public static LatencySummary Of(IEnumerable<double> values)
    {
        var sorted = values.Order().ToArray();
        if (sorted.Length == 0) return new LatencySummary { Mean = 0, P50 = 0, P90 = 0, P99 = 0 };
        return new LatencySummary
        {
            Mean = sorted.Average(), P50 = Quantiles.OfSorted(sorted, 0.5), P90 = Quantiles.OfSorted(sorted, 0.9), P99 = Quantiles.OfSorted(sorted, 0.99),
        };
    }

    public override string ToString() => $"mean {Mean,9:F1}   p50 {P50,9:F1}   p90 {P90,9:F1}   p99 {P99,9:F1}";
}
