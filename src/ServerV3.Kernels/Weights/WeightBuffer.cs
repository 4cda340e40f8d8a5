using ILGPU;
using ILGPU.Runtime;
using ServerV3.Kernels.Launch;

namespace ServerV3.Kernels.Weights;

/// <summary>
/// A stack of [Count, Rows, Cols] weight matrices on one accelerator, in its storage format. Matrices are
/// uploaded one at a time (<c>Set*</c>), so a stack never needs a host copy of its own.
/// </summary>
public sealed class WeightBuffer : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? f32;
    private readonly MemoryBuffer1D<ushort, Stride1D.Dense>? bf16;
    private readonly MemoryBuffer1D<byte, Stride1D.Dense>? fp8;
    private readonly MemoryBuffer1D<float, Stride1D.Dense>? scales;
    private readonly ArrayView<float> fp8DecodeTable;

    /// <param name="fp8DecodeTable">The accelerator's copy of <see cref="Fp8E4M3.DecodeTable"/> (FP8 only).</param>
    public WeightBuffer(Accelerator accelerator, WeightFormat format, int count, int rows, int cols, ArrayView<float> fp8DecodeTable = default)
    {
        Format = format;
        Count = count;
        Rows = rows;
        Cols = cols;
        long elements = (long)count * rows * cols;
        switch (format)
        {
            case WeightFormat.F32:
                f32 = AlignedBuffer<float>.Allocate(accelerator, elements);
                break;
            case WeightFormat.Bf16:
                bf16 = AlignedBuffer<ushort>.Allocate(accelerator, elements);
                break;
            case WeightFormat.Fp8Block:
                fp8 = AlignedBuffer<byte>.Allocate(accelerator, elements);
                scales = AlignedBuffer<float>.Allocate(accelerator, (long)count * ScalesPerMatrix);
                this.fp8DecodeTable = fp8DecodeTable;
                break;
        }
    }

    public WeightFormat Format { get; }
    public int Count { get; }
    public int Rows { get; }
    public int Cols { get; }

    public long MatrixElements => (long)Rows * Cols;

    public int ScalesPerMatrix =>
        (Rows + Fp8BlockMatrix.BlockSize - 1) / Fp8BlockMatrix.BlockSize * ((Cols + Fp8BlockMatrix.BlockSize - 1) / Fp8BlockMatrix.BlockSize);

    /// <summary>Bytes of one matrix of the stack, scales included.</summary>
    public long MatrixBytes => Bytes / Count;

    public long Bytes => (f32?.LengthInBytes ?? 0) + (bf16?.LengthInBytes ?? 0) + (fp8?.LengthInBytes ?? 0) + (scales?.LengthInBytes ?? 0);

    public void SetF32(int matrix, ReadOnlySpan<float> values) => Upload(f32!, matrix, MatrixElements, values);

    public void SetBf16(int matrix, ReadOnlySpan<ushort> bits) => Upload(bf16!, matrix, MatrixElements, bits);

    /// <param name="blockScales">[ceil(rows/128), ceil(cols/128)] fp32 scales of this matrix.</param>
    public void SetFp8(int matrix, ReadOnlySpan<byte> bits, ReadOnlySpan<float> blockScales)
    {
        Upload(fp8!, matrix, MatrixElements, bits);
        Upload(scales!, matrix, ScalesPerMatrix, blockScales);
    }

    /// <summary>
    /// Copies matrix <paramref name="sourceMatrix"/> of <paramref name="source"/> (same format and shape, on any
    /// accelerator of the same context) over matrix <paramref name="matrix"/>, scales included. The copy runs on the
    /// source accelerator's default stream; synchronise both accelerators before using the copy.
    /// </summary>
    public void CopyMatrix(int matrix, WeightBuffer source, int sourceMatrix)
    {
        if (source.Format != Format || source.Rows != Rows || source.Cols != Cols)
            throw new ArgumentException($"a {source.Format} [{source.Rows}, {source.Cols}] matrix cannot replace a {Format} [{Rows}, {Cols}] one", nameof(source));
        if ((uint)matrix >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(matrix), $"matrix {matrix} of {Count}");
        if ((uint)sourceMatrix >= (uint)source.Count) throw new ArgumentOutOfRangeException(nameof(sourceMatrix), $"matrix {sourceMatrix} of {source.Count}");
        switch (Format)
        {
            case WeightFormat.F32:
                Copy(source.f32!, sourceMatrix, f32!, matrix, MatrixElements);
                break;
            case WeightFormat.Bf16:
                Copy(source.bf16!, sourceMatrix, bf16!, matrix, MatrixElements);
                break;
            case WeightFormat.Fp8Block:
                Copy(source.fp8!, sourceMatrix, fp8!, matrix, MatrixElements);
                Copy(source.scales!, sourceMatrix, scales!, matrix, ScalesPerMatrix);
                break;
        }
    }

    public F32Matrix AsF32() => new(f32!.View, Rows, Cols);

    public Bf16Matrix AsBf16() => new(bf16!.View, Rows, Cols);

    public Fp8BlockMatrix AsFp8() => new(fp8!.View, scales!.View, fp8DecodeTable, Rows, Cols);

    public void Dispose()
    {
        f32?.Dispose();
        bf16?.Dispose();
        fp8?.Dispose();
        scales?.Dispose();
    }

    private static void Copy<T>(MemoryBuffer1D<T, Stride1D.Dense> from, int fromMatrix, MemoryBuffer1D<T, Stride1D.Dense> to, int toMatrix, long length)
        where T : unmanaged =>
        from.View.SubView(fromMatrix * length, length).CopyTo(to.View.SubView(toMatrix * length, length));

    private void Upload<T>(MemoryBuffer1D<T, Stride1D.Dense> buffer, int matrix, long length, ReadOnlySpan<T> values)
        where T : unmanaged
    {
        if ((uint)matrix >= (uint)Count) throw new ArgumentOutOfRangeException(nameof(matrix), $"matrix {matrix} of {Count}");
        if (values.Length != length) throw new ArgumentException($"expected {length} values, got {values.Length}", nameof(values));
        HostCopy.ToDevice(buffer.View.SubView(matrix * length, length), values);
    }
}
