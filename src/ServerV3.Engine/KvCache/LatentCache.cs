using ILGPU;
using ILGPU.Runtime;
using ServerV3.Kernels.Launch;

namespace ServerV3.Engine.KvCache;

/// <summary>
/// The paged latent KV cache: for every layer (main layers, then the MTP layer) a pool of NumBlocks blocks of
/// BlockSize token slots, each slot holding c_kv (kv_lora_rank) followed by k_pe (qk_rope_head_dim) in fp32.
/// A sequence's block table maps its position p to block table[p / BlockSize], slot p % BlockSize; all layers
/// share the block ids.
/// </summary>
public sealed class LatentCache : IDisposable
{
    private readonly MemoryBuffer1D<float, Stride1D.Dense>[] layers;

    public LatentCache(Accelerator accelerator, int numLayers, int numBlocks, int blockSize, int width)
    {
        NumBlocks = numBlocks;
        BlockSize = blockSize;
        Width = width;
        layers = new MemoryBuffer1D<float, Stride1D.Dense>[numLayers];
        for (int l = 0; l < numLayers; l++) layers[l] = AlignedBuffer<float>.Allocate(accelerator, (long)numBlocks * blockSize * width);
    }

    public int NumBlocks { get; }
    public int BlockSize { get; }
    public int Width { get; }
    public int NumLayers => layers.Length;

    public static long BytesPerBlock(int numLayers, int blockSize, int width) => (long)numLayers * blockSize * width * sizeof(float);

    public ArrayView<float> Layer(int layer) => layers[layer].View;

    public void Dispose()
    {
        foreach (var layer in layers) layer.Dispose();
    }
}
