using ILGPU;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Rope;

/// <summary>
/// Interleaved rotary embedding (pairs (2i, 2i+1) rotated by pos * inv_freq[i]), DeepSeek's pairing.
/// The cos/sin tables are [maxPositions, ropeDim / 2], YaRN frequencies and magnitude already folded in.
/// </summary>
public static class RopeKernels
{
    /// <summary>Rotates the rope slice starting at x[t, column] in place.</summary>
    public static void Rotate(Rows x, int t, int column, int position, RopeTables tables, int ropeDim)
    {
        int half = ropeDim / 2;
        for (int i = 0; i < half; i++)
        {
            float cos = tables.Cos[(long)position * half + i], sin = tables.Sin[(long)position * half + i];
            float a = x[t, column + 2 * i], b = x[t, column + 2 * i + 1];
            x[t, column + 2 * i] = a * cos - b * sin;
            x[t, column + 2 * i + 1] = a * sin + b * cos;
        }
    }

    /// <summary>Element <paramref name="index"/> of the rope slice starting at x[t, column] once rotated (the value <see cref="Rotate"/> would leave there).</summary>
    public static float Rotated(Rows x, int t, int column, int index, int position, RopeTables tables, int ropeDim)
    {
        int half = ropeDim / 2, i = index / 2;
        float cos = tables.Cos[(long)position * half + i], sin = tables.Sin[(long)position * half + i];
        float a = x[t, column + 2 * i], b = x[t, column + 2 * i + 1];
        return index % 2 == 0 ? a * cos - b * sin : a * sin + b * cos;
    }
}

public readonly struct RopeTables(ArrayView<float> cos, ArrayView<float> sin)
{
    public ArrayView<float> Cos { get; } = cos;
    public ArrayView<float> Sin { get; } = sin;
}
