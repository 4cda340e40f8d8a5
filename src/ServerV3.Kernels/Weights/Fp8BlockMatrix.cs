using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Frontend;
using ServerV3.Kernels.Cpu;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Weights;

/// <summary>
/// FP8 E4M3 weights with one fp32 scale per 128x128 block (DeepSeek-V3's <c>weight_scale_inv</c>),
/// dequantised exactly in the kernel: w = decode(byte) * scale[row / 128, col / 128].
/// </summary>
public readonly struct Fp8BlockMatrix(
    ArrayView<byte> data, ArrayView<float> scales, ArrayView<float> decodeTable, int rows, int cols) : IWeightMatrix
{
    public const int BlockSize = 128;

    public ArrayView<byte> Data { get; } = data;
    public ArrayView<float> Scales { get; } = scales;
    /// <summary>The 256 fp32 values of the E4M3 bit patterns (<see cref="Fp8E4M3.DecodeTable"/>).</summary>
    public ArrayView<float> DecodeTable { get; } = decodeTable;
    public int Rows { get; } = rows;
    public int Cols { get; } = cols;

    public int ScaleRows => (Rows + BlockSize - 1) / BlockSize;
    public int ScaleCols => (Cols + BlockSize - 1) / BlockSize;

    public float Get(int matrix, int row, int col)
    {
        long scale = ((long)matrix * ScaleRows + row / BlockSize) * ScaleCols + col / BlockSize;
        return DecodeTable[(int)Data[((long)matrix * Rows + row) * Cols + col]] * Scales[scale];
    }

    [External("serverv3_fp8blockmatrix_multiply_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void MultiplyOnCpu(int matrix, int rowStart, int rowEnd, Rows x, ArrayView<int> xRows, int useXRows, int tokens, Rows y, int accumulate) =>
        CpuGemm.Multiply(new Fp8Chunks(CpuPointers.Of(Data) + (long)matrix * Rows * Cols, CpuPointers.Of(Scales) + (long)matrix * ScaleRows * ScaleCols, CpuPointers.Of(DecodeTable), Cols), rowStart, rowEnd, Cols, x, xRows, useXRows, tokens, y, accumulate);

    [External("serverv3_fp8blockmatrix_multiply_transposed_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void MultiplyTransposedOnCpu(int matrix, int rowStart, int rowCount, Rows x, Rows y, int tokens) =>
        CpuGemm.MultiplyTransposed(new Fp8Chunks(CpuPointers.Of(Data) + (long)matrix * Rows * Cols, CpuPointers.Of(Scales) + (long)matrix * ScaleRows * ScaleCols, CpuPointers.Of(DecodeTable), Cols), rowStart, rowCount, Cols, x, y, tokens);

    [External("serverv3_fp8matrix_lookup_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public unsafe void LookupOnCpu(ArrayView<int> ids, int start, int end, Rows output) =>
        CpuRowKernels.LookupRows(new Fp8Chunks(CpuPointers.Of(Data), CpuPointers.Of(Scales), CpuPointers.Of(DecodeTable), Cols), Cols, CpuPointers.Of(ids), start, end, output);
}
