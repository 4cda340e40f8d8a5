namespace ServerV3.Engine.Moe;

/// <summary>
/// One MoE layer's (token, choice) pairs grouped by destination: which copy computes each choice (an expert's copies
/// take its assignments in turn), per rank the count of every local slot, their prefix sums (the grouped GEMM's
/// offsets) and the permutation into slot order (token order within a slot); the hidden rows each rank receives
/// (every token it needs once, ascending); and each choice's row in the primary's expert output, where the ranks'
/// results are stacked in rank order. Built on the host: it needs every rank's counts anyway to size the copies
/// between accelerators, and it is O(tokens · top-k) (a GPU scan would not pay for itself; on the CPU accelerator
/// ILGPU's scans are far slower, DESIGN.md §4). Buffers are sized once; Build reuses them.
/// </summary>
internal sealed class DispatchPlan
{
    private readonly int[][] offsets;
    private readonly int[][] rows;
    private readonly int[][] cursors;
    private readonly int[] sentTokens;
    private readonly int[] sendOffsets;
    private readonly int[] outputBase;
    private readonly int[] choiceSlots;
    private readonly int[] choiceRank;
    private readonly int[] choiceSlotOnRank;
    private readonly int[] choiceRow;
    private readonly int[] lastToken;
    private readonly int[] dealt;

    public DispatchPlan(IReadOnlyList<int> slotsPerRank, int experts, int maxTokens, int topK)
    {
        int ranks = slotsPerRank.Count, choices = maxTokens * topK;
        offsets = slotsPerRank.Select(s => new int[s + 1]).ToArray();
        cursors = slotsPerRank.Select(s => new int[s]).ToArray();
        rows = slotsPerRank.Select(_ => new int[choices]).ToArray();
        sentTokens = new int[maxTokens * Math.Min(topK, ranks - 1)];
        sendOffsets = new int[ranks + 1];
        outputBase = new int[ranks + 1];
        choiceSlots = new int[choices];
        choiceRank = new int[choices];
        choiceSlotOnRank = new int[choices];
        choiceRow = new int[choices];
        lastToken = new int[ranks];
        dealt = new int[experts];
    }

    public int Ranks => offsets.Length;

    /// <summary>Start of each local slot's assignments on a rank, and the end ([slots + 1]).</summary>
    public int[] Offsets(int rank) => offsets[rank];

    /// <summary>For each of a rank's assignments in slot order, its row of the rank's input (rank 0: the token itself).</summary>
    public int[] AssignedRows(int rank) => rows[rank];

    public int Assignments(int rank) => offsets[rank][^1];

    /// <summary>Slots of a rank with at least one assignment (each reads its expert's weights once).</summary>
    public int ActiveSlots(int rank)
    {
        var o = offsets[rank];
        int active = 0;
        for (int slot = 0; slot + 1 < o.Length; slot++)
            if (o[slot + 1] > o[slot]) active++;
        return active;
    }

    /// <summary>Where a rank's results start in the primary's expert output.</summary>
    public int OutputBase(int rank) => outputBase[rank];

    /// <summary>Tokens whose hidden rows go to ranks 1 and up, rank after rank (see <see cref="SendOffset"/>).</summary>
    public int[] SentTokens => sentTokens;

    public int SendOffset(int rank) => sendOffsets[rank];

    public int SentRows(int rank) => sendOffsets[rank + 1] - sendOffsets[rank];

    public int TotalSentRows => sendOffsets[Ranks];

    /// <summary>Each choice's row of the primary's expert output (what the combine reads).</summary>
    public int[] ChoiceSlots => choiceSlots;

    public void Build(ExpertPlacement placement, ReadOnlySpan<int> chosen, int tokens, int topK)
    {
        int choices = tokens * topK;
        Array.Clear(dealt);
        foreach (var rankOffsets in offsets) Array.Clear(rankOffsets);
        for (int i = 0; i < choices; i++)
        {
            var copies = placement.Replicas(chosen[i]);
            var copy = copies[dealt[chosen[i]]++ % copies.Length];
            choiceRank[i] = copy.Rank;
            choiceSlotOnRank[i] = copy.Slot;
            offsets[copy.Rank][copy.Slot + 1]++;
        }
        for (int rank = 0; rank < Ranks; rank++)
        {
            var o = offsets[rank];
            for (int s = 1; s < o.Length; s++) o[s] += o[s - 1];
            outputBase[rank + 1] = outputBase[rank] + o[^1];
        }
        // Rows: rank 0 (the primary) reads the hidden rows in place; every other rank gets each token it needs once,
        // numbered in token order, and the ranks' rows are laid out one rank after the other.
        Array.Fill(lastToken, -1);
        Array.Clear(sendOffsets);
        for (int i = 0; i < choices; i++)
        {
            int rank = choiceRank[i], token = i / topK;
            if (rank == 0)
            {
                choiceRow[i] = token;
                continue;
            }
            if (lastToken[rank] != token)
            {
                lastToken[rank] = token;
                sendOffsets[rank + 1]++;
            }
            choiceRow[i] = sendOffsets[rank + 1] - 1;
        }
        for (int rank = 0; rank < Ranks; rank++) sendOffsets[rank + 1] += sendOffsets[rank];
        for (int i = 0; i < choices; i++)
            if (choiceRank[i] != 0) sentTokens[sendOffsets[choiceRank[i]] + choiceRow[i]] = i / topK;
        for (int rank = 0; rank < Ranks; rank++) Array.Copy(offsets[rank], cursors[rank], cursors[rank].Length);
        for (int i = 0; i < choices; i++)
        {
            int rank = choiceRank[i];
            int position = cursors[rank][choiceSlotOnRank[i]]++;
            rows[rank][position] = choiceRow[i];
            choiceSlots[i] = outputBase[rank] + position;
        }
    }

    /// <summary>Tokens each expert got in the last <see cref="Build"/>, summed over its copies (what the ranks computed).</summary>
    public void CountExperts(ExpertPlacement placement, Span<int> perExpert)
    {
        for (int e = 0; e < perExpert.Length; e++)
        {
            int count = 0;
            foreach (var copy in placement.Replicas(e)) count += offsets[copy.Rank][copy.Slot + 1] - offsets[copy.Rank][copy.Slot];
            perExpert[e] = count;
        }
    }
}
