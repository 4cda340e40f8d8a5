namespace ServerV3.Kernels.Weights;

/// <summary>
/// A stack of row-major matrices [count, rows, cols] on the device, read one element at a time as fp32.
/// Implementations are unmanaged structs so kernels can be specialised per storage format.
/// </summary>
public interface IWeightMatrix
{
    float Get(int matrix, int row, int col);
}
