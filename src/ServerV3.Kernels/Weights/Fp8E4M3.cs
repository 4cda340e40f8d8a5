namespace ServerV3.Kernels.Weights;

/// <summary>FP8 E4M3FN: 1 sign, 4 exponent bits (bias 7), 3 mantissa bits, no infinities, S.1111.111 is NaN.</summary>
public static class Fp8E4M3
{
    public const float MaxValue = 448f;

    public static float Decode(byte bits)
    {
        int sign = bits >> 7;
        int exponent = (bits >> 3) & 0xF;
        int mantissa = bits & 0x7;
        float magnitude = exponent == 0xF && mantissa == 0x7
            ? float.NaN
            : exponent == 0
                ? mantissa / 8f * MathF.Pow(2, -6)
                : (1 + mantissa / 8f) * MathF.Pow(2, exponent - 7);
        return sign == 1 ? -magnitude : magnitude;
    }

    // Bit patterns 0x00..0x7E are the non-negative finite values in increasing order.
    private static readonly float[] PositiveValues = Enumerable.Range(0, 0x7F).Select(b => Decode((byte)b)).ToArray();

    /// <summary>Round-to-nearest-even encoding, saturating at ±448 (what checkpoint writers do).</summary>
    public static byte Encode(float value)
    {
        if (float.IsNaN(value)) return 0x7F;
        float magnitude = Math.Min(MathF.Abs(value), MaxValue);
        int upper = Array.BinarySearch(PositiveValues, magnitude);
        int bits;
        if (upper >= 0)
        {
            bits = upper;
        }
        else
        {
            upper = ~upper;
            int lower = upper - 1;
            float below = magnitude - PositiveValues[lower], above = PositiveValues[upper] - magnitude;
            bits = below < above || (below == above && (lower & 1) == 0) ? lower : upper;
        }
        return (byte)(value < 0 && bits != 0 ? bits | 0x80 : bits);
    }

    public static float[] DecodeTable() => Enumerable.Range(0, 256).Select(b => Decode((byte)b)).ToArray();
}
