using ILGPU;

namespace ServerV3.Kernels.Launch;

/// <summary>The contiguous slice of work items the current thread owns in a coarse kernel.</summary>
public static class WorkRange
{
    /// <summary>This thread's index among the launch's threads.</summary>
    public static int Thread => Grid.GlobalIndex.X;

    public static int Threads => TotalThreads();

    public static int Start(int items) => Slice(Grid.GlobalIndex.X, TotalThreads(), items);

    public static int End(int items) => Slice(Grid.GlobalIndex.X + 1, TotalThreads(), items);

    private static int TotalThreads() => Grid.DimX * Group.DimX;

    private static int Slice(int thread, int threads, int items) => (int)((long)items * thread / threads);
}
