namespace ServerV3.Engine.KvCache;

/// <summary>
/// The cache blocks with reference counts and the prefix cache. A full block that was computed is registered under
/// the hash of (its parent block's hash, its token ids); when its last user frees it, it stays cached in the free
/// queue until it is the least recently freed block and a new allocation evicts it.
/// </summary>
public sealed class BlockPool
{
    private readonly BlockState[] blocks;
    private readonly LinkedList<int> freeQueue = new();
    private readonly LinkedListNode<int>?[] freeNodes;
    private readonly Dictionary<ulong, int> cachedBlocks = [];

    public BlockPool(int numBlocks)
    {
        blocks = new BlockState[numBlocks];
        freeNodes = new LinkedListNode<int>?[numBlocks];
        for (int b = 0; b < numBlocks; b++)
        {
            blocks[b] = new BlockState();
            freeNodes[b] = freeQueue.AddLast(b);
        }
    }

    public int NumBlocks => blocks.Length;

    /// <summary>Blocks no sequence holds (some of them still cached for prefix reuse).</summary>
    public int NumFreeBlocks => freeQueue.Count;

    public bool IsFree(int block) => blocks[block].RefCount == 0;

    /// <summary>Takes the least recently freed block, evicting its cached contents.</summary>
    public int Allocate()
    {
        int block = freeQueue.First?.Value ?? throw new InvalidOperationException("no free cache block");
        Remove(block);
        var state = blocks[block];
        if (state.Hash is { } hash && cachedBlocks.TryGetValue(hash, out int owner) && owner == block) cachedBlocks.Remove(hash);
        state.Hash = null;
        state.Tokens = null;
        state.Parent = -1;
        state.RefCount = 1;
        return block;
    }

    /// <summary>A cached block holding exactly these tokens after <paramref name="parent"/>, if any.</summary>
    public int? Lookup(ulong hash, int parent, ReadOnlySpan<int> tokens) =>
        cachedBlocks.TryGetValue(hash, out int block) && blocks[block].Parent == parent && tokens.SequenceEqual(blocks[block].Tokens)
            ? block
            : null;

    /// <summary>Adds a user to a (possibly free, cached) block.</summary>
    public void Share(int block)
    {
        if (blocks[block].RefCount++ == 0) Remove(block);
    }

    public void Release(int block)
    {
        var state = blocks[block];
        if (state.RefCount <= 0) throw new InvalidOperationException($"block {block} released more often than held");
        if (--state.RefCount == 0) freeNodes[block] = freeQueue.AddLast(block);
    }

    /// <summary>Makes a fully computed block findable by its contents.</summary>
    public void Register(int block, ulong hash, int parent, int[] tokens)
    {
        var state = blocks[block];
        if (state.Hash is not null) return;
        state.Hash = hash;
        state.Parent = parent;
        state.Tokens = tokens;
        cachedBlocks.TryAdd(hash, block);
    }

    public ulong? HashOf(int block) => blocks[block].Hash;

    private void Remove(int block)
    {
        freeQueue.Remove(freeNodes[block]!);
        freeNodes[block] = null;
    }

    private sealed class BlockState
    {
        public int RefCount;
        public ulong? Hash;
        public int Parent = -1;
        public int[]? Tokens;
    }
}
