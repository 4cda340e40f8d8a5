using ILGPU;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// The worker running a CPU launch (a grid of one-thread groups) and its contiguous slice of the launch's items, as
/// <see cref="WorkRange"/> gives them, read with one grid-index and one grid-size query. ILGPU's CPU runtime evaluates
/// a resource string (the message of an assertion that passes) on every Grid or Group query: WorkRange's global index
/// makes six of them and a Start/End pair sixteen. A one-token normLinear launch over 384 + 288 rows of 1024 (harness,
/// 2 workers) took 103-119 µs with them and 83-101 without, against 70-84 for a plain matvec over the same weights;
/// in a batch-1 decode profile the lookups fell from 0.35 % to 0.09 % of the samples.
/// </summary>
internal static class CpuWorker
{
    /// <summary>This worker's index (its grid index: groups have one thread).</summary>
    public static int Index => Grid.IdxX;

    /// <summary>Workers of the launch.</summary>
    public static int Count => Grid.DimX;

    /// <summary>Items [start, end) of <paramref name="items"/>, the same slice as WorkRange.Start and End.</summary>
    public static void Slice(int items, out int start, out int end)
    {
        int index = Grid.IdxX, workers = Grid.DimX;
        start = (int)((long)items * index / workers);
        end = (int)((long)items * (index + 1) / workers);
    }
}
