using ILGPU;

namespace ServerV3.Kernels.Launch;

/// <summary>The current thread of a coarse kernel, and the contiguous slice of work items it owns.</summary>
public static class WorkRange
{
    /// <summary>This thread's index among the launch's threads.</summary>
    public static int Thread => Grid.GlobalIndex.X;

    public static int Threads => Grid.DimX * Group.DimX;

    public static int Start(int items) => Slice(Thread, Threads, items);

    public static int End(int items) => Slice(Thread + 1, Threads, items);

    private static int Slice(int thread, int threads, int items) => (int)((long)items * thread / threads);
}
