using ServerV3.Engine.Execution;

namespace ServerV3.Engine.Model;

/// <summary>
/// How a step's tokens are attended. A run of at least <see cref="ModelShapeOptions.ExpandedAttentionMinTokens"/>
/// consecutive tokens of one sequence at consecutive positions (a prefill chunk) goes through the expanded form; the
/// tokens between such runs through the absorbed form, one launch per stretch. The
/// choice depends only on the sequence's own tokens in the step, so a token's arithmetic never depends on what shares it.
/// Built on the host once per forward and reused by every layer; it allocates nothing.
/// </summary>
internal sealed class AttentionPlan(int minTokens, int maxPositions, int maxRuns)
{
    /// <summary>
    /// Tokens [First, First + Count); an expanded run sees context positions 0..Context - 1, whose cache slots start at
    /// <see cref="Slots"/>[SlotOffset]. AttendedPositions: positions read, summed over the tokens.
    /// </summary>
    public readonly record struct Segment(int First, int Count, bool Expanded, int Context, int SlotOffset, long AttendedPositions);

    private readonly Segment[] segments = new Segment[2 * maxRuns + 1];
    private int count;

    public ReadOnlySpan<Segment> Segments => segments.AsSpan(0, count);

    /// <summary>Cache slots of the expanded runs' contexts, run after run (the first <see cref="SlotCount"/>).</summary>
    public int[] Slots { get; } = new int[maxRuns * maxPositions];

    public int SlotCount { get; private set; }

    public void Build(StepBatch batch, int blockSize)
    {
        count = 0;
        SlotCount = 0;
        int n = batch.NumTokens, stretchStart = 0;
        long stretchAttended = 0;
        for (int t = 0, end; t < n; t = end)
        {
            int sequence = batch.TokenSequence[t];
            long attended = batch.Positions[t] + 1L;
            for (end = t + 1; end < n && batch.TokenSequence[end] == sequence && batch.Positions[end] == batch.Positions[end - 1] + 1; end++)
                attended += batch.Positions[end] + 1L;
            int context = batch.Positions[end - 1] + 1;
            if (end - t < minTokens)
            {
                stretchAttended += attended;
                continue;
            }
            if (t > stretchStart) segments[count++] = new Segment(stretchStart, t - stretchStart, false, 0, 0, stretchAttended);
            segments[count++] = new Segment(t, end - t, true, context, SlotCount, attended);
            var table = batch.BlockTables[sequence];
            for (int p = 0; p < context; p++) Slots[SlotCount + p] = table[p / blockSize] * blockSize + p % blockSize;
            SlotCount += context;
            stretchStart = end;
            stretchAttended = 0;
        }
        if (n > stretchStart) segments[count++] = new Segment(stretchStart, n - stretchStart, false, 0, 0, stretchAttended);
    }
}
