using System.Runtime.CompilerServices;
using ServerV3.Kernels.Attention;

namespace ServerV3.Kernels.Cpu;

/// <summary>
/// The cached latent rows of one sequence's positions, in order from a given position: one block-table read per cache
/// block and no division per position (<see cref="PagedLayout.Slot"/> per key was a division and two bounds-checked
/// view reads for every attended key of every head group).
/// </summary>
internal unsafe struct CacheCursor
{
    private readonly float* cache;
    private readonly int* table;
    private readonly int blockSize;
    private readonly int width;
    private int block;
    private int offset;
    private float* blockRows;

    public CacheCursor(float* cache, PagedLayout layout, int sequence, int width, int firstPosition)
    {
        this.cache = cache;
        table = CpuPointers.Of(layout.BlockTables) + (long)sequence * layout.MaxBlocksPerSequence;
        blockSize = layout.BlockSize;
        this.width = width;
        block = firstPosition / blockSize;
        offset = firstPosition % blockSize;
        blockRows = cache + (long)table[block] * blockSize * width;
    }

    /// <summary>The row of the current position; moves to the next.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining | MethodImplOptions.AggressiveOptimization)]
    public float* Next()
    {
        // The next block's table entry is read only when a position in it is asked for.
        if (offset == blockSize)
        {
            block++;
            offset = 0;
            blockRows = cache + (long)table[block] * blockSize * width;
        }
        return blockRows + (long)offset++ * width;
    }
}
