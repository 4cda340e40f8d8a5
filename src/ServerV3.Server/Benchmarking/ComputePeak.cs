using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace ServerV3.Server.Benchmarking;

/// <summary>
/// The machine's fp32 FMA ceiling: twelve independent chains of 512-bit FMAs in registers on every core (enough
/// chains to cover the FMA latency on two ports), so nothing but the FMA units limits it. Kernel GFLOP/s are
/// reported as a fraction of this.
/// </summary>
public static class ComputePeak
{
    private const int Iterations = 4_000_000;
    private const int FlopsPerIteration = 12 * 16 * 2;

    public static double FlopsPerSecond(int threads, int repetitions = 3)
    {
        // Each thread keeps its result, so the chains are not dead code to the JIT.
        var results = new float[threads];
        var best = ParallelTiming.Fastest(threads, repetitions, t => results[t] = Chains(Iterations, 1 + t));
        GC.KeepAlive(results);
        return (double)Iterations * FlopsPerIteration * threads / best.TotalSeconds;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chains(int iterations, float seed)
    {
        var m = Vector512.Create(0.999999f);
        var b = Vector512.Create(1e-7f);
        Vector512<float> a0 = Vector512.Create(seed), a1 = a0 + b, a2 = a1 + b, a3 = a2 + b, a4 = a3 + b, a5 = a4 + b;
        Vector512<float> a6 = a5 + b, a7 = a6 + b, a8 = a7 + b, a9 = a8 + b, a10 = a9 + b, a11 = a10 + b;
        for (int i = 0; i < iterations; i++)
        {
            a0 = Vector512.FusedMultiplyAdd(a0, m, b); a1 = Vector512.FusedMultiplyAdd(a1, m, b);
            a2 = Vector512.FusedMultiplyAdd(a2, m, b); a3 = Vector512.FusedMultiplyAdd(a3, m, b);
            a4 = Vector512.FusedMultiplyAdd(a4, m, b); a5 = Vector512.FusedMultiplyAdd(a5, m, b);
            a6 = Vector512.FusedMultiplyAdd(a6, m, b); a7 = Vector512.FusedMultiplyAdd(a7, m, b);
            a8 = Vector512.FusedMultiplyAdd(a8, m, b); a9 = Vector512.FusedMultiplyAdd(a9, m, b);
            a10 = Vector512.FusedMultiplyAdd(a10, m, b); a11 = Vector512.FusedMultiplyAdd(a11, m, b);
        }
        return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11);
    }
}
