namespace ServerV3.Engine.Moe;

/// <summary>
/// Which EP rank computes which routed experts of one MoE layer. Every expert has a fixed home: rank r owns the
/// contiguous experts [E·r/D, E·(r+1)/D) (uneven splits differ by one). The R redundant slots, spread evenly over the
/// ranks after their home experts, hold extra copies chosen the way DeepSeek's EPLB does: one at a time, the expert
/// with the most tokens per copy gets another copy on the least loaded rank that has a free slot and no copy of it
/// yet (ties: fewer copies, then the lower id, so with no load the first experts that fit get them). Immutable; a
/// rebalance builds a new placement.
/// </summary>
public sealed class ExpertPlacement
{
    private readonly int[][] slots;
    private readonly ExpertReplica[][] replicas;

    private ExpertPlacement(int experts, int[][] slots)
    {
        this.slots = slots;
        var copies = Enumerable.Range(0, experts).Select(_ => new List<ExpertReplica>()).ToArray();
        // A rank's home experts fill its first slots; listing every expert's home before its copies keeps it first.
        for (int rank = 0; rank < slots.Length; rank++)
            for (int slot = 0; slot < HomeExperts(experts, slots.Length, rank); slot++)
                copies[slots[rank][slot]].Add(new ExpertReplica(rank, slot));
        for (int rank = 0; rank < slots.Length; rank++)
            for (int slot = HomeExperts(experts, slots.Length, rank); slot < slots[rank].Length; slot++)
                copies[slots[rank][slot]].Add(new ExpertReplica(rank, slot));
        replicas = copies.Select(c => c.ToArray()).ToArray();
    }

    public int Experts => replicas.Length;

    public int Ranks => slots.Length;

    /// <summary>The expert in each slot of a rank's stack: its home experts in order, then its redundant copies.</summary>
    public IReadOnlyList<int> SlotsOf(int rank) => slots[rank];

    /// <summary>Every copy of an expert, its home first; its tokens are dealt to them in turn. A span: the dispatch walks
    /// these for every choice of every layer, and an interface enumerator there was a heap object each time.</summary>
    public ReadOnlySpan<ExpertReplica> Replicas(int expert) => replicas[expert];

    /// <summary>Experts with more than one copy, ascending.</summary>
    public IReadOnlyList<int> ReplicatedExperts => Enumerable.Range(0, Experts).Where(e => replicas[e].Length > 1).ToArray();

    public static int HomeExperts(int experts, int ranks, int rank) => experts * (rank + 1) / ranks - experts * rank / ranks;

    public static int RedundantSlots(int redundant, int ranks, int rank) => redundant * (rank + 1) / ranks - redundant * rank / ranks;

    /// <summary>How many experts a rank's stack holds: its home experts and its redundant slots.</summary>
    public static int Slots(int experts, int ranks, int redundant, int rank) => HomeExperts(experts, ranks, rank) + RedundantSlots(redundant, ranks, rank);

    /// <summary>Throws <see cref="ArgumentException"/> unless <paramref name="ranks"/> ranks can hold <paramref name="experts"/> experts plus <paramref name="redundant"/> copies.</summary>
    public static void Validate(int experts, int ranks, int redundant)
    {
        if (ranks < 1) throw new ArgumentException($"--expert-parallel must be at least 1, got {ranks}");
        if (ranks > experts) throw new ArgumentException($"--expert-parallel {ranks} exceeds the model's {experts} routed experts");
        if (redundant < 0) throw new ArgumentException($"--redundant-experts must not be negative, got {redundant}");
        if (redundant > 0 && ranks < 2) throw new ArgumentException("--redundant-experts needs --expert-parallel 2 or more: a copy lives on another rank than its expert");
        for (int rank = 0; rank < ranks; rank++)
            if (RedundantSlots(redundant, ranks, rank) > experts - HomeExperts(experts, ranks, rank))
                throw new ArgumentException(
                    $"--redundant-experts {redundant} is too many for {ranks} ranks of {experts} experts: rank {rank} would hold more copies than there are experts homed elsewhere");
    }

    /// <param name="load">Tokens routed to each expert (e.g. over the last steps); none: all equal.</param>
    public static ExpertPlacement Create(int experts, int ranks, int redundant, IReadOnlyList<long>? load = null)
    {
        Validate(experts, ranks, redundant);
        double Load(int expert) => load?[expert] ?? 0;
        var slots = new List<int>[ranks];
        var rankLoad = new double[ranks];
        var free = new int[ranks];
        var holds = new bool[experts, ranks];
        var copies = new int[experts];
        for (int rank = 0, first = 0; rank < ranks; rank++)
        {
            slots[rank] = Enumerable.Range(first, HomeExperts(experts, ranks, rank)).ToList();
            first += slots[rank].Count;
            free[rank] = RedundantSlots(redundant, ranks, rank);
            foreach (int e in slots[rank])
            {
                rankLoad[rank] += Load(e);
                holds[e, rank] = true;
                copies[e] = 1;
            }
        }
        for (int n = 0; n < redundant; n++)
        {
            int best = -1;
            for (int e = 0; e < experts; e++)
            {
                if (!Enumerable.Range(0, ranks).Any(r => free[r] > 0 && !holds[e, r])) continue;
                // Most tokens per copy first; on ties the expert with fewer copies, then the lower id.
                if (best < 0 || Load(e) / copies[e] > Load(best) / copies[best]
                    || (Load(e) / copies[e] == Load(best) / copies[best] && copies[e] < copies[best]))
                    best = e;
            }
            int target = Enumerable.Range(0, ranks).Where(r => free[r] > 0 && !holds[best, r]).MinBy(r => rankLoad[r]);
            double share = Load(best) / copies[best], newShare = Load(best) / (copies[best] + 1);
            for (int r = 0; r < ranks; r++)
                if (holds[best, r]) rankLoad[r] -= share - newShare;
            rankLoad[target] += newShare;
            holds[best, target] = true;
            copies[best]++;
            free[target]--;
            slots[target].Add(best);
        }
        return new ExpertPlacement(experts, slots.Select(s => s.ToArray()).ToArray());
    }
}
