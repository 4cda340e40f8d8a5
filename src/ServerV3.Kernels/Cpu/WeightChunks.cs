using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Cpu;

/// <summary>fp32 weights of one matrix, by raw pointer.</summary>
internal readonly unsafe struct F32Chunks(float* matrix, int cols) : IWeightChunks
{
    public float* Row(int row) => matrix + (long)row * cols;

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public void Load(int row, int col, out Vector512<float> low, out Vector512<float> high)
    {
        float* p = matrix + (long)row * cols + col;
        low = Vector512.Load(p);
        high = Vector512.Load(p + 16);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Scalar(int row, int col) => matrix[(long)row * cols + col];

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public void Prefetch(int row, int col)
    {
        float* p = matrix + (long)row * cols + col;
        Sse.Prefetch0(p);
        Sse.Prefetch0(p + 16);
    }
}

/// <summary>bf16 weights of one matrix, widened to fp32 in registers by a 16-bit shift.</summary>
internal readonly unsafe struct Bf16Chunks(ushort* matrix, int cols) : IWeightChunks
{
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public void Load(int row, int col, out Vector512<float> low, out Vector512<float> high)
    {
        var bits = Vector512.Load(matrix + (long)row * cols + col);
        low = Vector512.ShiftLeft(Vector512.WidenLower(bits), 16).AsSingle();
        high = Vector512.ShiftLeft(Vector512.WidenUpper(bits), 16).AsSingle();
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Scalar(int row, int col) => BFloat16.ToSingle(matrix[(long)row * cols + col]);

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public void Prefetch(int row, int col) => Sse.Prefetch0(matrix + (long)row * cols + col);
}

/// <summary>FP8 E4M3 weights with 128x128 block scales, decoded through the 256-entry table.</summary>
internal readonly unsafe struct Fp8Chunks(byte* matrix, float* scales, float* decode, int cols) : IWeightChunks
{
    private readonly int scaleCols = (cols + Fp8BlockMatrix.BlockSize - 1) / Fp8BlockMatrix.BlockSize;

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public void Load(int row, int col, out Vector512<float> low, out Vector512<float> high)
    {
        // 32 aligned columns never straddle a 128-column scale block.
        byte* p = matrix + (long)row * cols + col;
        float* values = stackalloc float[32];
        for (int i = 0; i < 32; i++) values[i] = decode[p[i]];
        var scale = Vector512.Create(scales[row / Fp8BlockMatrix.BlockSize * scaleCols + col / Fp8BlockMatrix.BlockSize]);
        low = Vector512.Load(values) * scale;
        high = Vector512.Load(values + 16) * scale;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public float Scalar(int row, int col) =>
        decode[matrix[(long)row * cols + col]] * scales[row / Fp8BlockMatrix.BlockSize * scaleCols + col / Fp8BlockMatrix.BlockSize];

    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public void Prefetch(int row, int col) => Sse.Prefetch0(matrix + (long)row * cols + col);
}
