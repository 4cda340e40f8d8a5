using ServerV3.Engine.Execution;
using ServerV3.Engine.Model;

namespace ServerV3.Engine.Tests.Model;

/// <summary>Which tokens of a step are attended in the expanded form, and the cache slots of their contexts.</summary>
public sealed class AttentionPlanTests
{
    private const int BlockSize = 4;

    [Fact]
    public void LongChunksAreExpandedAndTheTokensBetweenThemShareAbsorbedLaunches()
    {
        var plan = new AttentionPlan(minTokens: 5, maxPositions: 16, maxRuns: 2);
        // Sequence 0 decodes at 9; sequence 1 prefills 6 tokens from 2; sequence 2 decodes at 3; sequence 3 prefills 4.
        int[] sequences = [0, 1, 1, 1, 1, 1, 1, 2, 3, 3, 3, 3];
        int[] positions = [9, 2, 3, 4, 5, 6, 7, 3, 0, 1, 2, 3];
        int[][] tables = [[0, 1, 2], [7, 5], [3], [4]];

        plan.Build(Batch(sequences, positions, tables), BlockSize);

        AttentionPlan.Segment[] expected =
            [new(0, 1, false, 0, 0, 10), new(1, 6, true, 8, 0, 3 + 4 + 5 + 6 + 7 + 8), new(7, 5, false, 0, 0, 4 + 1 + 2 + 3 + 4)];
        Assert.Equal(expected, plan.Segments.ToArray());
        Assert.Equal(8, plan.SlotCount);
        Assert.Equal(new[] { 28, 29, 30, 31, 20, 21, 22, 23 }, plan.Slots.Take(8));
    }

    [Fact]
    public void ShortChunksAndBrokenRunsStayAbsorbed()
    {
        var plan = new AttentionPlan(minTokens: 3, maxPositions: 16, maxRuns: 2);
        // Sequence 0: 2 tokens; sequence 1: positions 0, 1, 3 (not consecutive); sequence 2: 3 tokens, but not together.
        int[] sequences = [0, 0, 1, 1, 1, 2, 2, 0, 2];
        int[] positions = [5, 6, 0, 1, 3, 0, 1, 7, 2];

        plan.Build(Batch(sequences, positions, [[0, 1], [2], [3]]), BlockSize);

        var segment = Assert.Single(plan.Segments.ToArray());
        Assert.Equal(new AttentionPlan.Segment(0, 9, false, 0, 0, positions.Sum(p => p + 1L)), segment);
        Assert.Equal(0, plan.SlotCount);
    }

    private static StepBatch Batch(int[] sequences, int[] positions, int[][] tables) =>
        new(new int[sequences.Length], positions, sequences, tables, [sequences.Length - 1]);
}
