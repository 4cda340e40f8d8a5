using ILGPU;
using ILGPU.Algorithms;
using ILGPU.Runtime;
using ILGPU.Runtime.CPU;
using ILGPU.Runtime.Cuda;
using ServerV3.Kernels.Launch;

namespace ServerV3.Engine.Runtime;

/// <summary>
/// One ILGPU context with the primary accelerator and, for expert parallelism, one more accelerator per further EP
/// rank, each with every kernel loaded. On the CPU a device has one multiprocessor per worker and launches use group
/// size 1, so exactly one worker thread per multiprocessor ever starts (ILGPU's CPU accelerator runs each simulated
/// GPU thread as an OS thread; see DESIGN.md §4). CPU ranks after the first stand in for GPUs: they share the cores,
/// so each gets its share of the workers. All accelerators share the context, so copies between them are plain
/// accelerator-to-accelerator copies and the kernels compile once.
/// </summary>
public sealed class ComputeDevice : IDisposable
{
    private readonly Context context;
    private readonly List<Accelerator> accelerators = [];
    private readonly List<KernelSet> kernelSets = [];

    private ComputeDevice(Context context, IEnumerable<Func<Accelerator>> create)
    {
        this.context = context;
        try
        {
            foreach (var next in create)
            {
                var accelerator = next();
                accelerators.Add(accelerator);
                kernelSets.Add(new KernelSet(accelerator));
            }
            foreach (var peer in accelerators.Skip(1))
                if (Accelerator.CanAccessPeer(peer))
                {
                    Accelerator.EnablePeerAccess(peer);
                    peer.EnablePeerAccess(Accelerator);
                }
        }
        catch
        {
            // Create disposes the context.
            ReleaseAccelerators();
            throw;
        }
    }

    public Accelerator Accelerator => accelerators[0];

    public KernelSet Kernels => kernelSets[0];

    /// <summary>The kernels of every EP rank, each on its own accelerator; [0] is the primary's.</summary>
    public IReadOnlyList<KernelSet> ExpertRanks => kernelSets;

    public string Name => $"{Accelerator.AcceleratorType} ({Accelerator.Name})" + (accelerators.Count > 1 ? $" x {accelerators.Count} expert-parallel ranks" : "");

    /// <param name="expertParallel">Accelerators for the EP ranks (the primary is the first).</param>
    public static ComputeDevice Create(DeviceKind kind, int cpuThreads = 0, int expertParallel = 1)
    {
        if (expertParallel < 1) throw new ArgumentOutOfRangeException(nameof(expertParallel), $"--expert-parallel must be at least 1, got {expertParallel}");
        int threads = cpuThreads > 0 ? cpuThreads : Environment.ProcessorCount;
        // Warp 32 x 2 warps: more than 32 threads per multiprocessor, so ILGPU starts threads lazily and a
        // group-size-1 launch starts exactly one per multiprocessor.
        var cpu = new CPUDevice(32, 2, threads);
        var rankCpu = new CPUDevice(32, 2, Math.Max(1, threads / expertParallel));
        var context = Context.Create(builder =>
        {
            if (kind != DeviceKind.Cpu) builder.Cuda();
            builder.CPU(cpu).CPU(rankCpu).EnableAlgorithms();
        });
        try
        {
            var cuda = context.Devices.Where(d => d.AcceleratorType == AcceleratorType.Cuda).ToList();
            if (kind == DeviceKind.Cuda && cuda.Count == 0) throw new DeviceUnavailableException("--device cuda: no CUDA device found (is the NVIDIA driver's libcuda.so on the library path?)");
            bool useCuda = kind != DeviceKind.Cpu && cuda.Count > 0;
            if (useCuda && cuda.Count < expertParallel)
                throw new DeviceUnavailableException($"--expert-parallel {expertParallel} needs as many CUDA devices; {cuda.Count} found");
            var create = Enumerable.Range(0, expertParallel).Select<int, Func<Accelerator>>(rank => useCuda
                ? () => cuda[rank].CreateAccelerator(context)
                : () => (rank == 0 ? cpu : rankCpu).CreateCPUAccelerator(context, CPUAcceleratorMode.Parallel));
            return new ComputeDevice(context, create);
        }
        catch
        {
            context.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Memory left for the cache: on a GPU the primary's memory minus what is allocated there (<paramref name="allocatedBytes"/>);
    /// on the CPU the memory available to the process minus what it already uses.
    /// </summary>
    public long FreeMemoryBytes(long allocatedBytes) => Accelerator.AcceleratorType == AcceleratorType.CPU
        ? Math.Max(0, GC.GetGCMemoryInfo().TotalAvailableMemoryBytes - Environment.WorkingSet)
        : Math.Max(0, Accelerator.MemorySize - allocatedBytes);

    public void Dispose()
    {
        ReleaseAccelerators();
        context.Dispose();
    }

    private void ReleaseAccelerators()
    {
        kernelSets.ForEach(k => k.Dispose());
        accelerators.ForEach(a => a.Dispose());
    }
}
