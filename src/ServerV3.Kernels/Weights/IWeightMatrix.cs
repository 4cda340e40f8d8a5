using ILGPU;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Weights;

/// <summary>
/// A stack of row-major matrices [count, rows, cols] on the device, read one element at a time as fp32.
/// Implementations are plain structs so kernels can be specialised per storage format.
/// </summary>
public interface IWeightMatrix
{
    float Get(int matrix, int row, int col);

    /// <summary>
    /// CPU fast path: y[i, r] (+)= W[matrix][r] · x[xRows[i] (or i)] for rows [rowStart, rowEnd) and tokens i &lt; tokens,
    /// with SIMD over raw pointers. Implementations are marked [External], so ILGPU never compiles them: only the
    /// CPU accelerator, which runs kernels as .NET code, may call this.
    /// </summary>
    void MultiplyOnCpu(int matrix, int rowStart, int rowEnd, Rows x, ArrayView<int> xRows, int useXRows, int tokens, Rows y, int accumulate);

    /// <summary>
    /// CPU fast path ([External]): y[i, c] = Σ_d x[i, d] · W[matrix][rowStart + d, c] for d &lt; rowCount, every column c
    /// and rows i &lt; tokens.
    /// </summary>
    void MultiplyTransposedOnCpu(int matrix, int rowStart, int rowCount, Rows x, Rows y, int tokens);

    /// <summary>CPU fast path ([External]): output[t] = W[0][ids[t]] as fp32 for tokens [start, end) (embedding lookups).</summary>
    void LookupOnCpu(ArrayView<int> ids, int start, int end, Rows output);
}
