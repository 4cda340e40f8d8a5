namespace ServerV3.Engine.Execution;

/// <summary>
/// One forward over a flattened batch: token t is TokenIds[t] of batch sequence TokenSequence[t] at Positions[t]
/// (its key is written to the cache before attention, so prefill chunks and decode tokens mix freely);
/// BlockTables[s] are sequence s's cache blocks; logits are computed only for the rows in LogitRows.
/// </summary>
public sealed record StepBatch(int[] TokenIds, int[] Positions, int[] TokenSequence, int[][] BlockTables, int[] LogitRows)
{
    public int NumTokens => TokenIds.Length;

    /// <summary>One sequence's tokens at consecutive positions from <paramref name="start"/>.</summary>
    public static StepBatch ForSequence(IReadOnlyList<int> tokens, int start, int[] blockTable, bool allLogits)
    {
        int n = tokens.Count;
        return new StepBatch(
            tokens.ToArray(),
            Enumerable.Range(start, n).ToArray(),
            new int[n],
            [blockTable],
            allLogits ? Enumerable.Range(0, n).ToArray() : [n - 1]);
    }
}
