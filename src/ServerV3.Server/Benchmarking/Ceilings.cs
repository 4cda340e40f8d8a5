using System.Diagnostics;
using ILGPU;
using ILGPU.Runtime;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Probes;

namespace ServerV3.Server.Benchmarking;

/// <summary>
/// What `bench` measures the engine against, taken in the same run: on the CPU accelerator the cores' triad,
/// read-only and FMA probes; on a GPU the same three measured on the accelerator (<see cref="ProbeKernels"/>), since
/// the host's memory says nothing about a GPU step.
/// </summary>
public sealed record Ceilings(double TriadBytesPerSecond, double ReadBytesPerSecond, double FlopsPerSecond)
{
    private const long ProbeLength = 64L << 20; // floats per array: 256 MiB, far beyond any cache
    private const int MultiplyAddIterations = 1 << 16;
    private const int Repetitions = 5;

    public static Ceilings Measure(KernelSet kernels) => kernels.Workers > 0
        ? new(MemoryBandwidth.TriadBytesPerSecond(kernels.Workers), MemoryBandwidth.ReadBytesPerSecond(kernels.Workers), ComputePeak.FlopsPerSecond(kernels.Workers))
        : OnAccelerator(kernels.Accelerator);

    private static Ceilings OnAccelerator(Accelerator accelerator)
    {
        // Enough resident groups of 256 to fill every multiprocessor.
        int groupsPerMultiprocessor = Math.Max(1, accelerator.MaxNumThreadsPerMultiprocessor / 256);
        var config = new KernelConfig(accelerator.NumMultiprocessors * groupsPerMultiprocessor, 256);
        int threads = config.GridDim.X * config.GroupDim.X;
        using var a = accelerator.Allocate1D<float>(ProbeLength);
        using var b = accelerator.Allocate1D<float>(ProbeLength);
        using var c = accelerator.Allocate1D<float>(ProbeLength);
        using var partials = accelerator.Allocate1D<float>(threads);
        b.MemSetToZero();
        c.MemSetToZero();
        var triad = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>, ArrayView<float>, float>(ProbeKernels.Triad);
        var read = accelerator.LoadStreamKernel<ArrayView<float>, ArrayView<float>>(ProbeKernels.Read);
        var multiplyAdd = accelerator.LoadStreamKernel<ArrayView<float>, int>(ProbeKernels.MultiplyAdd);
        double triadSeconds = Fastest(accelerator, () => triad(config, a.View, b.View, c.View, 3f));
        double readSeconds = Fastest(accelerator, () => read(config, b.View, partials.View));
        double multiplyAddSeconds = Fastest(accelerator, () => multiplyAdd(config, partials.View, MultiplyAddIterations));
        return new(3.0 * ProbeLength * sizeof(float) / triadSeconds, (double)ProbeLength * sizeof(float) / readSeconds,
            16.0 * threads * MultiplyAddIterations / multiplyAddSeconds);
    }

    /// <summary>The fastest of a few synchronised launches, after one that compiles and warms up.</summary>
    private static double Fastest(Accelerator accelerator, Action launch)
    {
        launch();
        accelerator.Synchronize();
        double best = double.MaxValue;
        for (int r = 0; r < Repetitions; r++)
        {
            long start = Stopwatch.GetTimestamp();
            launch();
            accelerator.Synchronize();
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        return best;
    }
}
