using ILGPU;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Rope;

/// <summary>
/// Interleaved rotary embedding (pairs (2i, 2i+1) rotated by pos * inv_freq[i]), DeepSeek's pairing.
/// The cos/sin tables are [maxPositions, ropeDim / 2], YaRN frequencies and magnitude already folded in.
/// </summary>
public static class RopeKernels
{
    /// <summary>Rotates the rope slice of every head of every token in place.</summary>
    public static void RotateHeads(Rows x, ArrayView<int> positions, RopeTables tables, RopeShape shape)
    {
        int items = shape.Tokens * shape.Heads;
        int end = WorkRange.End(items);
        for (int item = WorkRange.Start(items); item < end; item++)
        {
            int t = item / shape.Heads, head = item % shape.Heads;
            Rotate(x, t, shape.RopeOffset + head * shape.HeadStride, positions[t], tables, shape.RopeDim);
        }
    }

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
}

public readonly struct RopeTables(ArrayView<float> cos, ArrayView<float> sin)
{
    public ArrayView<float> Cos { get; } = cos;
    public ArrayView<float> Sin { get; } = sin;
}

/// <summary>Head h's rope values start at column RopeOffset + h * HeadStride.</summary>
public readonly record struct RopeShape(int Tokens, int Heads, int HeadStride, int RopeOffset, int RopeDim);
