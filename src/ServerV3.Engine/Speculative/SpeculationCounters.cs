namespace ServerV3.Engine.Speculative;

/// <summary>Drafted and accepted tokens by draft position, kept by the engine thread.</summary>
public sealed class SpeculationCounters(int numDrafts)
{
    private readonly long[] drafted = new long[numDrafts];
    private readonly long[] accepted = new long[numDrafts];
    private long verifications;

    public void Record(int draftedTokens, int acceptedTokens)
    {
        if (draftedTokens == 0) return;
        verifications++;
        for (int i = 0; i < draftedTokens; i++) drafted[i]++;
        for (int i = 0; i < acceptedTokens; i++) accepted[i]++;
    }

    public SpeculationStats Snapshot() => new([.. drafted], [.. accepted], verifications);
}

/// <summary>
/// Speculative decoding so far: drafted and accepted tokens per draft position, and the number of verifications
/// (steps in which a sequence had drafts).
/// </summary>
public sealed record SpeculationStats(IReadOnlyList<long> DraftedByPosition, IReadOnlyList<long> AcceptedByPosition, long Verifications)
{
    public long DraftedTokens => DraftedByPosition.Sum();
    public long AcceptedTokens => AcceptedByPosition.Sum();
    public double AcceptanceRate => DraftedTokens == 0 ? 0 : (double)AcceptedTokens / DraftedTokens;
    /// <summary>Tokens emitted per verification: the accepted drafts plus the token the main model adds.</summary>
    public double MeanAcceptedLength => Verifications == 0 ? 0 : 1 + (double)AcceptedTokens / Verifications;
}
