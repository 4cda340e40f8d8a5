namespace ServerV3.Engine.KvCache;

/// <summary>Hands out cache block ids from a fixed pool.</summary>
public sealed class BlockAllocator(int numBlocks)
{
    private readonly Stack<int> free = new(Enumerable.Range(0, numBlocks).Reverse());

    public int NumBlocks { get; } = numBlocks;

    public int NumFreeBlocks => free.Count;

    public bool CanAllocate(int blocks) => blocks <= free.Count;

    public int[] Allocate(int blocks)
    {
        if (!CanAllocate(blocks)) throw new InvalidOperationException($"{blocks} blocks requested, {free.Count} free");
        var ids = new int[blocks];
        for (int i = 0; i < blocks; i++) ids[i] = free.Pop();
        return ids;
    }

    public void Free(IEnumerable<int> blocks)
    {
        foreach (int block in blocks) free.Push(block);
    }
}
