using ILGPU;

namespace ServerV3.Kernels.Attention;

/// <summary>
/// Where each token of a flattened batch lives in the paged latent cache: token t belongs to batch sequence
/// TokenSequence[t] at Positions[t]; sequence s's position p is cache slot
/// BlockTables[s, p / BlockSize] * BlockSize + p % BlockSize.
/// </summary>
public readonly struct PagedLayout(
    ArrayView<int> blockTables, ArrayView<int> tokenSequence, ArrayView<int> positions, int blockSize, int maxBlocksPerSequence)
{
    public ArrayView<int> BlockTables { get; } = blockTables;
    public ArrayView<int> TokenSequence { get; } = tokenSequence;
    public ArrayView<int> Positions { get; } = positions;
    public int BlockSize { get; } = blockSize;
    public int MaxBlocksPerSequence { get; } = maxBlocksPerSequence;

    public long Slot(int sequence, int position) =>
        (long)BlockTables[(long)sequence * MaxBlocksPerSequence + position / BlockSize] * BlockSize + position % BlockSize;
}
