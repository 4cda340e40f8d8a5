namespace ServerV3.Kernels.Launch;

/// <summary>One kernel's totals in a <see cref="KernelProfile"/>.</summary>
public readonly record struct KernelStats(long Launches, TimeSpan Time, double Flops, double Bytes)
{
    public double FlopsPerSecond => Time > TimeSpan.Zero ? Flops / Time.TotalSeconds : 0;

    public double BytesPerSecond => Time > TimeSpan.Zero ? Bytes / Time.TotalSeconds : 0;
}
