using System.Runtime.Intrinsics;

namespace ServerV3.Kernels.Cpu;

/// <summary>Reads 32 consecutive weights of a row as two fp32 vectors (the CPU fast path's inner load).</summary>
internal interface IWeightChunks
{
    void Load(int row, int col, out Vector512<float> low, out Vector512<float> high);

    float Scalar(int row, int col);

    /// <summary>Asks the cache for the same 32 columns of a row that will be read soon (never faults, even past the end).</summary>
    void Prefetch(int row, int col);
}
