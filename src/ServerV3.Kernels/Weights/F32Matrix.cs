using ILGPU;

namespace ServerV3.Kernels.Weights;

/// <summary>Weights stored as fp32.</summary>
public readonly struct F32Matrix(ArrayView<float> data, int rows, int cols) : IWeightMatrix
{
    public ArrayView<float> Data { get; } = data;
    public int Rows { get; } = rows;
    public int Cols { get; } = cols;

    public float Get(int matrix, int row, int col) => Data[((long)matrix * Rows + row) * Cols + col];
}
