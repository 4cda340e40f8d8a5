using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ServerV3.Kernels.Launch;
using ServerV3.Kernels.Weights;

namespace ServerV3.Kernels.Tests;

/// <summary>A CPU accelerator with every kernel loaded, plus upload/download helpers for tests.</summary>
public sealed class KernelTestDevice : IDisposable
{
    private readonly Context context;
    private readonly List<IDisposable> buffers = [];

    public KernelTestDevice()
    {
        // 4 warps of 32: groups of up to 128 threads, the GPU launch shape GpuShaped uses.
        var device = new CPUDevice(32, 4, 2);
        context = Context.Create(b => b.CPU(device).EnableAlgorithms());
        Accelerator = device.CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel);
        Cpu = new KernelSet(Accelerator);
        Portable = new KernelSet(Accelerator, portableBodies: true);
        GpuShaped = new KernelSet(Accelerator, gpuLaunches: true);
    }

    public Accelerator Accelerator { get; }

    /// <summary>The CPU SIMD bodies (what the engine runs on the CPU accelerator).</summary>
    public KernelSet Cpu { get; }

    /// <summary>The portable bodies (what CUDA compiles), run on the CPU accelerator.</summary>
    public KernelSet Portable { get; }

    /// <summary>The portable bodies launched with the GPU's shapes (thread per work item, groups of 128).</summary>
    public KernelSet GpuShaped { get; }

    public ArrayView<T> Upload<T>(T[] values) where T : unmanaged
    {
        var buffer = HostCopy.Upload<T>(Accelerator, values);
        buffers.Add(buffer);
        return buffer.View;
    }

    /// <summary>A buffer filled with NaN, so that any element a kernel fails to write shows up.</summary>
    public ArrayView<float> Poisoned(int length) => Upload(Enumerable.Repeat(float.NaN, length).ToArray());

    public static T[] Download<T>(ArrayView<T> view) where T : unmanaged
    {
        var values = new T[view.Length];
        HostCopy.ToHost(view, values.AsSpan());
        return values;
    }

    /// <summary>A random weight stack in the given format, and its exact fp32 values for the reference.</summary>
    public (WeightBuffer Buffer, float[] Values) RandomWeights(Random random, WeightFormat format, int count, int rows, int cols)
    {
        var weights = new WeightBuffer(Accelerator, format, count, rows, cols, Cpu.Fp8DecodeTable);
        buffers.Add(weights);
        var values = new float[(long)count * rows * cols];
        for (int m = 0; m < count; m++)
        {
            var matrix = values.AsSpan((int)(m * weights.MatrixElements), (int)weights.MatrixElements);
            switch (format)
            {
                case WeightFormat.F32:
                    for (int i = 0; i < matrix.Length; i++) matrix[i] = random.NextSingle() * 2 - 1;
                    weights.SetF32(m, matrix);
                    break;
                case WeightFormat.Bf16:
                    var bits = new ushort[matrix.Length];
                    for (int i = 0; i < bits.Length; i++)
                    {
                        bits[i] = BFloat16.FromSingle(random.NextSingle() * 2 - 1);
                        matrix[i] = BFloat16.ToSingle(bits[i]);
                    }
                    weights.SetBf16(m, bits);
                    break;
                case WeightFormat.Fp8Block:
                    var scales = Enumerable.Range(0, weights.ScalesPerMatrix).Select(_ => 0.001f + random.NextSingle() * 0.01f).ToArray();
                    var bytes = new byte[matrix.Length];
                    int scaleCols = (cols + Fp8BlockMatrix.BlockSize - 1) / Fp8BlockMatrix.BlockSize;
                    for (int i = 0; i < bytes.Length; i++)
                    {
                        bytes[i] = (byte)random.Next(0, 256);
                        if (float.IsNaN(Fp8E4M3.Decode(bytes[i]))) bytes[i] = 0;
                        int r = i / cols, c = i % cols;
                        matrix[i] = Fp8E4M3.Decode(bytes[i]) * scales[r / Fp8BlockMatrix.BlockSize * scaleCols + c / Fp8BlockMatrix.BlockSize];
                    }
                    weights.SetFp8(m, bytes, scales);
                    break;
            }
        }
        return (weights, values);
    }

    public static float[] RandomValues(Random random, int length, float scale = 1) =>
        Enumerable.Range(0, length).Select(_ => (random.NextSingle() * 2 - 1) * scale).ToArray();

    public void Dispose()
    {
        buffers.ForEach(b => b.Dispose());
        Cpu.Dispose();
        Portable.Dispose();
        GpuShaped.Dispose();
        Accelerator.Dispose();
        context.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class KernelDeviceCollection : ICollectionFixture<KernelTestDevice>
{
    public const string Name = "kernel device";
}
