using System.Text.Json.Serialization;

namespace ServerV3.Server.Benchmarking;

/// <summary>Mean and percentiles of a latency in milliseconds (percentiles by linear interpolation between ranks, as numpy's default).</summary>
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
        return new LatencySummary { Mean = sorted.Average(), P50 = Percentile(sorted, 0.5), P90 = Percentile(sorted, 0.9), P99 = Percentile(sorted, 0.99) };
    }

    private static double Percentile(double[] sorted, double q)
    {
        double rank = q * (sorted.Length - 1);
        int below = (int)Math.Floor(rank);
        int above = Math.Min(below + 1, sorted.Length - 1);
        return sorted[below] + (rank - below) * (sorted[above] - sorted[below]);
    }

    public override string ToString() => $"mean {Mean,9:F1}   p50 {P50,9:F1}   p90 {P90,9:F1}   p99 {P99,9:F1}";
}
