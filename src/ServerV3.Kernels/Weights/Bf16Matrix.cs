using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Frontend;
using ServerV3.Kernels.Cpu;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Weights;

/// <summary>Weights stored as bfloat16 bit patterns, widened to fp32 exactly by a shift.</summary>
public readonly struct Bf16Matrix(ArrayView<ushort> data, int rows, int cols) : IWeightMatrix
{
    public ArrayView<ushort> Data { get; } = data;
    public int Rows { get; } = rows;
    public int Cols { get; } = cols;

    public float Get(int matrix, int row, int col) =>
        Interop.IntAsFloat((uint)Data[((long)matrix * Rows + row) * Cols + col] << 16);

    [External("serverv3_bf16matrix_multiply_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void MultiplyOnCpu(int matrix, int rowStart, int rowEnd, Rows x, ArrayView<int> xRows, int useXRows, int tokens, Rows y, int accumulate) =>
        CpuGemm.Multiply(new Bf16Chunks(CpuPointers.Of(Data) + (long)matrix * Rows * Cols, Cols), rowStart, rowEnd, Cols, x, xRows, useXRows, tokens, y, accumulate);

    [External("serverv3_bf16matrix_multiply_transposed_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void MultiplyTransposedOnCpu(int matrix, int rowStart, int rowCount, Rows x, Rows y, int tokens) =>
        CpuGemm.MultiplyTransposed(new Bf16Chunks(CpuPointers.Of(Data) + (long)matrix * Rows * Cols, Cols), rowStart, rowCount, Cols, x, y, tokens);

    [External("serverv3_bf16matrix_lookup_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void LookupOnCpu(ArrayView<int> ids, int start, int end, Rows output) =>
        CpuRowKernels.LookupRows(new Bf16Chunks(CpuPointers.Of(Data), Cols), Cols, CpuPointers.Of(ids), start, end, output);
}
