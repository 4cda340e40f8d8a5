using ServerV3.Server.Benchmarking;

namespace ServerV3.Server.Tests.Benchmarking;

public sealed class LatencySummaryTests
{
    [Fact]
    public void PercentilesInterpolateBetweenRanksAsNumpyDoes()
    {
        // numpy.percentile([1, 2, 3, 4, 10], [50, 90, 99]) = [3.0, 7.6, 9.76]
        var summary = LatencySummary.Of([10, 2, 4, 1, 3]);

        Assert.Equal(4.0, summary.Mean, 12);
        Assert.Equal(3.0, summary.P50, 12);
        Assert.Equal(7.6, summary.P90, 12);
        Assert.Equal(9.76, summary.P99, 12);
    }

    [Fact]
    public void OneValueIsEveryPercentileAndNoValuesAreZero()
    {
        Assert.Equal(new LatencySummary { Mean = 5, P50 = 5, P90 = 5, P99 = 5 }, LatencySummary.Of([5]));
        Assert.Equal(new LatencySummary { Mean = 0, P50 = 0, P90 = 0, P99 = 0 }, LatencySummary.Of([]));
    }
}
