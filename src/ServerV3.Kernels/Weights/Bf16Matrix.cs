using ILGPU;

namespace ServerV3.Kernels.Weights;

/// <summary>Weights stored as bfloat16 bit patterns, widened to fp32 exactly by a shift.</summary>
public readonly struct Bf16Matrix(ArrayView<ushort> data, int rows, int cols) : IWeightMatrix
{
    public ArrayView<ushort> Data { get; } = data;
    public int Rows { get; } = rows;
    public int Cols { get; } = cols;

    public float Get(int matrix, int row, int col) =>
        Interop.IntAsFloat((uint)Data[((long)matrix * Rows + row) * Cols + col] << 16);
}
