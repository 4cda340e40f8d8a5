using ILGPU;
using ILGPU.Runtime;
using ServerV3.Kernels.Launch;

namespace ServerV3.Engine.Runtime;

/// <summary>Device buffers allocated once on one accelerator (at least one element each) and freed together.</summary>
internal sealed class DeviceBuffers(Accelerator accelerator) : IDisposable
{
    private readonly List<IDisposable> owned = [];

    public MemoryBuffer1D<T, Stride1D.Dense> Allocate<T>(long length) where T : unmanaged
    {
        var buffer = AlignedBuffer<T>.Allocate(accelerator, Math.Max(length, 1));
        owned.Add(buffer);
        return buffer;
    }

    public void Dispose() => owned.ForEach(b => b.Dispose());
}
