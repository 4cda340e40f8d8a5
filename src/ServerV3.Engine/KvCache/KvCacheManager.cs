using ServerV3.Engine.Scheduling;

namespace ServerV3.Engine.KvCache;

/// <summary>
/// Block tables of the running sequences over one <see cref="BlockPool"/>. The scheduler asks
/// <see cref="FindCachedPrefix"/>, <see cref="TryAllocate"/> and <see cref="Free"/>; it never sees the pool.
/// </summary>
public sealed class KvCacheManager(BlockPool pool, int blockSize)
{
    private readonly Dictionary<Sequence, List<int>> tables = [];
    private readonly Dictionary<Sequence, int> registeredBlocks = [];

    public int BlockSize { get; } = blockSize;
    public int NumBlocks => pool.NumBlocks;
    public int NumFreeBlocks => pool.NumFreeBlocks;

    /// <summary>Prompt tokens looked up in the prefix cache, and how many of them were found.</summary>
    public long PrefixQueriedTokens { get; private set; }
    public long PrefixHitTokens { get; private set; }

    public int BlocksFor(int tokens) => (tokens + BlockSize - 1) / BlockSize;

    public IReadOnlyList<int> BlockTable(Sequence sequence) => tables[sequence];

    /// <summary>
    /// The longest run of cached full blocks at the start of the sequence, leaving at least one token to compute
    /// (its logits are needed).
    /// </summary>
    public List<int> FindCachedPrefix(Sequence sequence)
    {
        var hits = new List<int>();
        ulong parentHash = 0;
        int parent = -1;
        int fullBlocks = (sequence.NumTokens - 1) / BlockSize;
        for (int b = 0; b < fullBlocks; b++)
        {
            var tokens = sequence.TokenSpan(b * BlockSize, BlockSize);
            ulong hash = BlockHash.Of(parentHash, tokens);
            if (pool.Lookup(hash, parent, tokens) is not { } block) break;
            hits.Add(block);
            parentHash = hash;
            parent = block;
        }
        return hits;
    }

    /// <summary>Admits a waiting sequence: shares its cached prefix blocks and allocates for <paramref name="newTokens"/> more.</summary>
    public bool TryAdmit(Sequence sequence, List<int> cachedPrefix, int newTokens)
    {
        int needed = BlocksFor(cachedPrefix.Count * BlockSize + newTokens) - cachedPrefix.Count;
        int freeHits = cachedPrefix.Count(pool.IsFree);
        if (needed + freeHits > pool.NumFreeBlocks) return false;
        foreach (int block in cachedPrefix) pool.Share(block);
        var table = new List<int>(cachedPrefix);
        for (int i = 0; i < needed; i++) table.Add(pool.Allocate());
        tables[sequence] = table;
        registeredBlocks[sequence] = cachedPrefix.Count;
        PrefixQueriedTokens += sequence.NumTokens;
        PrefixHitTokens += cachedPrefix.Count * BlockSize;
        return true;
    }

    /// <summary>Grows a running sequence's table to cover <paramref name="newTokens"/> more positions.</summary>
    public bool TryAllocate(Sequence sequence, int newTokens)
    {
        var table = tables[sequence];
        int needed = BlocksFor(sequence.NumComputedTokens + newTokens) - table.Count;
        if (needed > pool.NumFreeBlocks) return false;
        for (int i = 0; i < needed; i++) table.Add(pool.Allocate());
        return true;
    }

    /// <summary>Registers the sequence's newly completed full blocks for prefix reuse.</summary>
    public void CacheFullBlocks(Sequence sequence)
    {
        var table = tables[sequence];
        int done = registeredBlocks[sequence], full = sequence.NumComputedTokens / BlockSize;
        ulong parentHash = done == 0 ? 0 : pool.HashOf(table[done - 1]) ?? 0;
        for (int b = done; b < full; b++)
        {
            var tokens = sequence.TokenSpan(b * BlockSize, BlockSize).ToArray();
            ulong hash = BlockHash.Of(parentHash, tokens);
            pool.Register(table[b], hash, b == 0 ? -1 : table[b - 1], tokens);
            parentHash = pool.HashOf(table[b]) ?? hash;
        }
        registeredBlocks[sequence] = Math.Max(done, full);
    }

    /// <summary>Releases the tail blocks a sequence no longer needs to hold <paramref name="tokens"/> positions.</summary>
    public void Trim(Sequence sequence, int tokens)
    {
        var table = tables[sequence];
        int keep = Math.Max(BlocksFor(tokens), registeredBlocks[sequence]);
        for (int i = table.Count - 1; i >= keep; i--)
        {
            pool.Release(table[i]);
            table.RemoveAt(i);
        }
    }

    public void Free(Sequence sequence)
    {
        if (!tables.Remove(sequence, out var table)) return;
        registeredBlocks.Remove(sequence);
        // Tail blocks first, so they are evicted before the prefix blocks other requests are likelier to share.
        for (int i = table.Count - 1; i >= 0; i--) pool.Release(table[i]);
    }
}
