namespace ServerV3.Server.Benchmarking;

/// <summary>Quantiles by linear interpolation between ranks (numpy's default): the median of an even count is the mean of the middle two.</summary>
public static class Quantiles
{
    /// <summary>The <paramref name="q"/>-quantile (0..1) of values sorted ascending.</summary>
    public static double OfSorted(IReadOnlyList<double> sorted, double q)
    {
        if (sorted.Count == 0) throw new ArgumentException("no values", nameof(sorted));
        double rank = q * (sorted.Count - 1);
        int below = (int)Math.Floor(rank);
        int above = Math.Min(below + 1, sorted.Count - 1);
        return sorted[below] + (rank - below) * (sorted[above] - sorted[below]);
    }

    public static double Median(IEnumerable<double> values) => OfSorted(values.Order().ToArray(), 0.5);
}
