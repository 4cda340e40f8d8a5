using System.Diagnostics;

namespace ServerV3.Server.Benchmarking;

/// <summary>The machine probes' timing: the fastest of several runs of the same work on every thread at once.</summary>
public static class ParallelTiming
{
    /// <param name="perThread">The work of thread t of <paramref name="threads"/>.</param>
    public static TimeSpan Fastest(int threads, int repetitions, Action<int> perThread)
    {
        var options = new ParallelOptions { MaxDegreeOfParallelism = threads };
        var best = TimeSpan.MaxValue;
        for (int r = 0; r < repetitions; r++)
        {
            long start = Stopwatch.GetTimestamp();
            Parallel.For(0, threads, options, perThread);
            var elapsed = Stopwatch.GetElapsedTime(start);
            if (elapsed < best) best = elapsed;
        }
        return best;
    }
}
