using ILGPU;
using ILGPU.Runtime;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Engine.ModelLoading;

/// <summary>
/// Moves checkpoint tensors onto an accelerator in the format they are stored in: BF16 stays BF16, F8_E4M3
/// stays FP8 with its <c>_scale_inv</c> block scales (dequantised exactly in the kernels), F32 and F16 become F32.
/// </summary>
public sealed class WeightLoader(Checkpoint checkpoint, Accelerator accelerator, ArrayView<float> fp8DecodeTable)
{
    public const string ScaleSuffix = "_scale_inv";

    public Checkpoint Checkpoint { get; } = checkpoint;

    /// <summary>Bytes uploaded so far (for progress reports).</summary>
    public long BytesLoaded { get; private set; }

    public WeightBuffer Matrix(string name, int rows, int cols) => Stack([name], rows, cols);

    /// <summary>Same-shaped, same-dtype matrices (e.g. the routed experts of a layer) as one [count, rows, cols] buffer.</summary>
    public WeightBuffer Stack(IReadOnlyList<string> names, int rows, int cols)
    {
        var dtype = Checkpoint.Require(names[0], rows, cols).Info.DType;
        var format = dtype switch
        {
            SafetensorsDType.BF16 => WeightFormat.Bf16,
            SafetensorsDType.F8_E4M3 => WeightFormat.Fp8Block,
            _ => WeightFormat.F32,
        };
        var buffer = new WeightBuffer(accelerator, format, names.Count, rows, cols, fp8DecodeTable);
        try
        {
            for (int i = 0; i < names.Count; i++)
            {
                var (file, info) = Checkpoint.Require(names[i], rows, cols);
                if (info.DType != dtype)
                    throw new ModelLoadException($"{file.Path}: tensor {names[i]} is {info.DType}, but {names[0]} of the same group is {dtype}");
                switch (format)
                {
                    case WeightFormat.Bf16:
                        buffer.SetBf16(i, file.Values<ushort>(info));
                        break;
                    case WeightFormat.Fp8Block:
                        string scaleName = names[i] + ScaleSuffix;
                        if (!Checkpoint.Contains(scaleName))
                            throw new ModelLoadException($"{file.Path}: tensor {names[i]} is F8_E4M3 but {scaleName} is missing");
                        int block = Fp8BlockMatrix.BlockSize;
                        buffer.SetFp8(i, file.Bytes(info), Checkpoint.ReadFloats(scaleName, (rows + block - 1) / block, (cols + block - 1) / block));
                        break;
                    default:
                        buffer.SetF32(i, Checkpoint.ReadFloats(names[i], rows, cols));
                        break;
                }
            }
        }
        catch
        {
            buffer.Dispose();
            throw;
        }
        BytesLoaded += buffer.Bytes;
        return buffer;
    }

    /// <summary>A vector (norm weight, routing bias) as fp32 on the device.</summary>
    public MemoryBuffer1D<float, Stride1D.Dense> Vector(string name, int length)
    {
        var buffer = HostCopy.Upload<float>(accelerator, Checkpoint.ReadFloats(name, length));
        BytesLoaded += buffer.LengthInBytes;
        return buffer;
    }
}
