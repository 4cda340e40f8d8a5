using System.Runtime.CompilerServices;
using ILGPU;
using ILGPU.Frontend;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Rope;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// Interleaved RoPE over CPU rows with <see cref="RopeKernels.Rotate"/>'s arithmetic, as plain .NET code: ILGPU's CPU
/// backend ran the portable per-element loops at tens of nanoseconds an element.
/// </summary>
internal static unsafe class CpuRope
{
    /// <summary>y[i, yColumn + j] = x[i, xColumn + j] rotated at positions[first + i], for rows i &lt; count and j &lt; ropeDim.</summary>
    [External("serverv3_rope_rows_cpu")]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RotateRows(Rows x, int xColumn, Rows y, int yColumn, ArrayView<int> positions, int first, int count, RopeTables rope, int ropeDim)
    {
        int* position = CpuPointers.Of(positions) + first;
        for (int i = 0; i < count; i++)
        {
            Rotate(CpuPointers.Of(x.Data) + x.Offset + (long)i * x.Stride + xColumn, CpuPointers.Of(y.Data) + y.Offset + (long)i * y.Stride + yColumn,
                rope, position[i], ropeDim);
        }
    }

    /// <summary>target = source rotated at <paramref name="position"/> (ropeDim values; target may be source).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Rotate(float* source, float* target, RopeTables rope, int position, int ropeDim)
    {
        int half = ropeDim / 2;
        float* cos = CpuPointers.Of(rope.Cos) + (long)position * half, sin = CpuPointers.Of(rope.Sin) + (long)position * half;
        for (int i = 0; i < half; i++)
        {
            float a = source[2 * i], b = source[2 * i + 1];
            target[2 * i] = a * cos[i] - b * sin[i];
            target[2 * i + 1] = a * sin[i] + b * cos[i];
        }
    }
}
