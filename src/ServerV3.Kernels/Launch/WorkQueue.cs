using ILGPU;

namespace ServerV3.Kernels.Launch;

/// <summary>
/// A CPU launch's work in chunks handed out on demand: each worker takes the next chunk until none is left, so a worker
/// that wakes late or loses its core for a while (as a shared host's vCPUs do) leaves its chunks to the others instead
/// of holding the whole launch up. Bf16 matvecs of 0.8-8 MB on this project's 2-vCPU machine, nine interleaved rounds:
/// 11-28 % less time than fixed halves. The host zeroes the counter, and the <see cref="Tally"/> after it, before each
/// launch; what a worker computes for a chunk does not depend on which worker took it.
/// </summary>
public readonly struct WorkQueue(ArrayView<int> counter, int chunks)
{
    public ArrayView<int> Counter { get; } = counter;

    /// <summary>Chunks per part of the work (a launch with two parts, such as routed and shared experts, hands out twice as many).</summary>
    public int Chunks { get; } = chunks;

    /// <summary>The next chunk's number; a worker stops at the first one past its launch's last.</summary>
    public int Take() => Atomic.Add(ref Counter[0], 1);

    /// <summary>
    /// Counts one more finished piece of work for <paramref name="part"/> (below <see cref="Chunks"/>) and returns the
    /// count so far: the worker that sees the last one knows every other worker's writes for the part are done (the
    /// atomic add orders them).
    /// </summary>
    public int Tally(int part) => Atomic.Add(ref Counter[1 + part], 1) + 1;

    /// <summary>
    /// The first of <paramref name="items"/> in chunk <paramref name="chunk"/> (chunk <see cref="Chunks"/> starts at the
    /// end). Chunks start on multiples of four items: the CPU GEMM's blocks of four weight rows stay whole.
    /// </summary>
    public int Start(int chunk, int items) => Boundary(chunk, Chunks, items);

    /// <summary>The first of <paramref name="items"/> in part <paramref name="part"/> of <paramref name="parts"/>, on a multiple of four as <see cref="Start"/>.</summary>
    public static int Boundary(int part, int parts, int items) => part >= parts ? items : (int)((long)items * part / parts) & ~3;
}
