namespace ServerV3.Engine.Scheduling;

/// <summary>One step's plan: which sequences compute how many tokens (from their NumComputedTokens on).</summary>
public sealed record SchedulerOutput(IReadOnlyList<(Sequence Sequence, int NumTokens)> Scheduled, IReadOnlyList<Sequence> Preempted)
{
    public int NumTokens => Scheduled.Sum(s => s.NumTokens);
    public bool IsEmpty => Scheduled.Count == 0;
}
