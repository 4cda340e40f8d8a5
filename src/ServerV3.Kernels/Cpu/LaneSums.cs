using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// Horizontal sums of Vector512 accumulators in one fixed tree: lane j + lane j + 8, then j + j + 4, then j + j + 2,
/// then 0 + 1. <see cref="Of"/> reduces one accumulator, <see cref="Of8"/> eight and <see cref="Of16"/> sixteen at once (about 45 shuffles and
/// adds for sixteen instead of sixteen separate reductions); all give the same bits for an accumulator, so a (row, token)
/// pair's result does not depend on the block that reduced it.
/// </summary>
internal static class LaneSums
{
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static float Of(Vector512<float> a)
    {
        var p = a.GetLower() + a.GetUpper();
        var q = p.GetLower() + p.GetUpper();
        var r = q + Vector128.Shuffle(q, Vector128.Create(2, 3, 0, 1));
        return r.ToScalar() + r.GetElement(1);
    }

    /// <summary>
    /// The sums of a0..a15 in one vector, lane 4k + i holding the sum of a(4i + k): with accumulators ordered
    /// row-major over 4 rows x 4 tokens, token k's four row sums are lanes 4k..4k + 3.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static Vector512<float> Of16(
        Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7,
        Vector512<float> a8, Vector512<float> a9, Vector512<float> a10, Vector512<float> a11,
        Vector512<float> a12, Vector512<float> a13, Vector512<float> a14, Vector512<float> a15)
    {
        // Each step halves the vectors: pairs of 256-bit halves, of 128-bit quarters, of lane pairs, of lanes.
        var u0 = Quarters(Halves(a0, a1), Halves(a2, a3));
        var u1 = Quarters(Halves(a4, a5), Halves(a6, a7));
        var u2 = Quarters(Halves(a8, a9), Halves(a10, a11));
        var u3 = Quarters(Halves(a12, a13), Halves(a14, a15));
        return Singles(Pairs(u0, u1), Pairs(u2, u3));
    }

    /// <summary>The sums of a0..a7, lane i holding the sum of a(i).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public static Vector256<float> Of8(
        Vector512<float> a0, Vector512<float> a1, Vector512<float> a2, Vector512<float> a3,
        Vector512<float> a4, Vector512<float> a5, Vector512<float> a6, Vector512<float> a7)
    {
        var pairs = Pairs(Quarters(Halves(a0, a1), Halves(a2, a3)), Quarters(Halves(a4, a5), Halves(a6, a7)));
        // Lane 4k holds the sum of a(k), lane 4k + 1 that of a(4 + k) (lanes 4k + 2 and 4k + 3 repeat them).
        var sums = Singles(pairs, pairs);
        return Vector512.Shuffle(sums, Vector512.Create(0, 4, 8, 12, 1, 5, 9, 13, 0, 0, 0, 0, 0, 0, 0, 0)).GetLower();
    }

    /// <summary>Lanes 0..7: a's lane j + j + 8; lanes 8..15: b's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Halves(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0x44) + Avx512F.Shuffle4x128(a, b, 0xEE);

    /// <summary>From two <see cref="Halves"/> results (four 8-lane partials): quarter k holds the k-th partial's lanes j + j + 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Quarters(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle4x128(a, b, 0x88) + Avx512F.Shuffle4x128(a, b, 0xDD);

    /// <summary>In each 128-bit lane: a's lanes 0 + 2 and 1 + 3, then b's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Pairs(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle(a, b, 0x44) + Avx512F.Shuffle(a, b, 0xEE);

    /// <summary>In each 128-bit lane: a's lanes 0 + 1 and 2 + 3, then b's.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    private static Vector512<float> Singles(Vector512<float> a, Vector512<float> b) =>
        Avx512F.Shuffle(a, b, 0x88) + Avx512F.Shuffle(a, b, 0xDD);
}
