namespace ServerV3.Engine.KvCache;

/// <summary>FNV-1a over a parent block's hash and a block's token ids (hits are verified against the tokens too).</summary>
public static class BlockHash
{
    private const ulong Offset = 14695981039346656037, Prime = 1099511628211;

    public static ulong Of(ulong parent, ReadOnlySpan<int> tokens)
    {
        ulong hash = Offset;
        hash = (hash ^ parent) * Prime;
        foreach (int token in tokens) hash = (hash ^ (uint)token) * Prime;
        return hash;
    }
}
