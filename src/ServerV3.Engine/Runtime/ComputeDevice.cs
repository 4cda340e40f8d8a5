using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ServerV3.Kernels.Launch;

namespace ServerV3.Engine.Runtime;

/// <summary>
/// One ILGPU context and accelerator with every kernel loaded. On the CPU the device has one multiprocessor per
/// core and launches use group size 1, so exactly one worker thread per core ever starts (ILGPU's CPU
/// accelerator runs each simulated GPU thread as an OS thread; see DESIGN.md §4).
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    private readonly Context context;

    private ComputeDevice(Context context, Accelerator accelerator)
    {
        this.context = context;
        Accelerator = accelerator;
        try
        {
            Kernels = new KernelSet(accelerator);
        }
        catch
        {
            accelerator.Dispose();
            context.Dispose();
            throw;
        }
    }

    public Accelerator Accelerator { get; }

    public KernelSet Kernels { get; }

    public string Name => $"{Accelerator.AcceleratorType} ({Accelerator.Name})";

    public static ComputeDevice Create(DeviceKind kind, int cpuThreads = 0)
    {
        int threads = cpuThreads > 0 ? cpuThreads : Environment.ProcessorCount;
        // Warp 32 x 2 warps: more than 32 threads per multiprocessor, so ILGPU starts threads lazily and a
        // group-size-1 launch starts exactly one per multiprocessor.
        var cpu = new CPUDevice(32, 2, threads);
        var context = Context.Create(builder =>
        {
            if (kind != DeviceKind.Cpu) builder.Cuda();
            builder.CPU(cpu).EnableAlgorithms();
        });
        try
        {
            var cuda = context.Devices.FirstOrDefault(d => d.AcceleratorType == AcceleratorType.Cuda);
            if (kind == DeviceKind.Cuda && cuda is null) throw new InvalidOperationException("--device cuda: no CUDA device found");
            Accelerator accelerator = kind != DeviceKind.Cpu && cuda is not null
                ? cuda.CreateAccelerator(context)
                : cpu.CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel);
            return new ComputeDevice(context, accelerator);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Memory left for the cache: on a GPU its memory minus what is allocated (<paramref name="allocatedBytes"/>);
    /// on the CPU the memory available to the process minus what it already uses.
    /// </summary>
    public long FreeMemoryBytes(long allocatedBytes) => Accelerator.AcceleratorType == AcceleratorType.CPU
        ? Math.Max(0, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes - Environment.WorkingSet)
        : Math.Max(0, Accelerator.MemorySize - allocatedBytes);

    public void Dispose()
    {
        Kernels.Dispose();
        Accelerator.Dispose();
        context.Dispose();
    }
}
