using ILGPU;

namespace ServerV3.Kernels.Launch;

/// <summary>A row-major fp32 matrix inside a device buffer: row r starts at Offset + r * Stride.</summary>
public readonly struct Rows(ArrayView<float> data, int stride, int offset = 0)
{
    public ArrayView<float> Data { get; } = data;
    public int Stride { get; } = stride;
    public int Offset { get; } = offset;

    public long At(int row, int col) => Offset + (long)row * Stride + col;

    public float this[int row, int col]
    {
        get => Data[At(row, col)];
        set => Data[At(row, col)] = value;
    }

    /// <summary>The same rows shifted right by <paramref name="columns"/>.</summary>
    public Rows Columns(int columns) => new(Data, Stride, Offset + columns);

    /// <summary>The rows from <paramref name="row"/> on (row 0 of the result is row <paramref name="row"/>).</summary>
    public Rows From(int row) => new(Data, Stride, Offset + row * Stride);
}
