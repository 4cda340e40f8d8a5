using System.Diagnostics;
using ServerV3.Kernels.Launch;
using ServerV3.Server.Benchmarking;

namespace ServerV3.Server.Tests.Benchmarking;

public sealed class KernelRowTests
{
    private const double Peak = 100e9, Read = 20e9;

    /// <summary>A pass of <paramref name="linearMs"/> ms of linear (2 launches) and 1 ms of attention (1 launch).</summary>
    private static KernelProfile Pass(double linearMs)
    {
        var pass = new KernelProfile();
        pass.Add("linear", (long)(linearMs / 2 * Stopwatch.Frequency / 1000), 2e6, 4e6);
        pass.Add("linear", (long)(linearMs / 2 * Stopwatch.Frequency / 1000), 2e6, 4e6);
        pass.Add("attention", Stopwatch.Frequency / 1000, 1e6, 0);
        return pass;
    }

    [Fact]
    public void APassWithALongStallDoesNotMoveTheRows()
    {
        var rows = KernelRow.From([Pass(3), Pass(3), Pass(40), Pass(3), Pass(3)], Peak, Read);

        var linear = Assert.Single(rows, r => r.Kernel == "linear");
        Assert.Equal(3.0, linear.Milliseconds, 3);
        Assert.Equal(2, linear.Launches);
        Assert.Equal(4e6 / 3e-3 / 1e9, linear.GFlopsPerSecond, 2);
        Assert.Equal(8e6 / 3e-3 / Read, linear.FractionOfReadBandwidth, 4);
        Assert.Equal(0.75, linear.Share, 4);
        Assert.Equal(["linear", "attention"], rows.Select(r => r.Kernel));
    }

    [Fact]
    public void AnEvenNumberOfPassesTakesTheMeanOfTheMiddleTwo()
    {
        var rows = KernelRow.From([Pass(2), Pass(4), Pass(6), Pass(100)], Peak, Read);

        Assert.Equal(5.0, Assert.Single(rows, r => r.Kernel == "linear").Milliseconds, 3);
    }

    [Fact]
    public void AKernelThatMostPassesDidNotLaunchHasNoRow()
    {
        var withGate = Pass(3);
        withGate.Add("gate", Stopwatch.Frequency / 1000, 0, 0);

        var rows = KernelRow.From([Pass(3), withGate, Pass(3)], Peak, Read);

        Assert.DoesNotContain(rows, r => r.Kernel == "gate");
        Assert.Equal(1.0, rows.Sum(r => r.Share), 4);
    }
}
