using System.Numerics.Tensors;

namespace ServerV3.Server.Benchmarking;

/// <summary>
/// A STREAM-style triad (a = b + s·c over arrays far larger than the caches) on every core, measured in the same
/// run as the engine so the decode floor uses this moment's bandwidth. Counts 3 arrays of traffic, as STREAM does.
/// </summary>
public static class MemoryBandwidth
{
    /// <summary>
    /// Read-only bandwidth (a vectorised sum over a large array on every core): what a weight-streaming decode can
    /// reach, since it reads weights and writes almost nothing.
    /// </summary>
    public static double ReadBytesPerSecond(int threads, int megabytes = 512, int repetitions = 5)
    {
        int length = megabytes * (1 << 20) / sizeof(float);
        var data = Enumerable.Repeat(1f, length).ToArray();
        var best = ParallelTiming.Fastest(threads, repetitions, t =>
        {
            int from = (int)((long)length * t / threads), to = (int)((long)length * (t + 1) / threads);
            TensorPrimitives.Sum(data.AsSpan(from, to - from));
        });
        return (double)length * sizeof(float) / best.TotalSeconds;
    }

    public static double TriadBytesPerSecond(int threads, int megabytesPerArray = 256, int repetitions = 5)
    {
        int length = megabytesPerArray * (1 << 20) / sizeof(float);
        var a = new float[length];
        var b = Enumerable.Repeat(1f, length).ToArray();
        var c = Enumerable.Repeat(2f, length).ToArray();
        var best = ParallelTiming.Fastest(threads, repetitions, t =>
        {
            int from = (int)((long)length * t / threads), to = (int)((long)length * (t + 1) / threads);
            TensorPrimitives.MultiplyAdd(c.AsSpan(from, to - from), 3f, b.AsSpan(from, to - from), a.AsSpan(from, to - from));
        });
        return 3.0 * length * sizeof(float) / best.TotalSeconds;
    }
}
