using System.Buffers;
using ServerV3.Engine.Sampling;

namespace ServerV3.Engine.Scheduling;

/// <summary>
/// One request inside the engine: its tokens (prompt, then output) and how many of them are in the cache. The
/// scheduler only ever moves NumComputedTokens towards NumTokens; prefill, chunked prefill, decode and recompute
/// after preemption are all that one rule.
/// </summary>
public sealed class Sequence
{
    private readonly List<int> tokens;
    private readonly Dictionary<int, int> outputCounts = [];
    private readonly HashSet<int> seenTokens;

    public Sequence(long order, IReadOnlyList<int> prompt, SamplingParams sampling)
    {
        Order = order;
        tokens = [.. prompt];
        seenTokens = [.. prompt];
        PromptLength = prompt.Count;
        Sampling = sampling;
        Random = new Random(unchecked((int)(sampling.Seed ?? System.Random.Shared.NextInt64())));
    }

    /// <summary>Arrival order: first come, first served; the newest is preempted first.</summary>
    public long Order { get; }
    public int PromptLength { get; }
    public SamplingParams Sampling { get; }
    /// <summary>The request's own random stream, so a seed reproduces whatever else shares the batch.</summary>
    public Random Random { get; }

    public int NumTokens => tokens.Count;
    public int NumOutputTokens => tokens.Count - PromptLength;
    public int NumComputedTokens { get; set; }
    /// <summary>Prompt tokens served from the prefix cache at admission.</summary>
    public int NumCachedPromptTokens { get; set; }
    public int NumPreemptions { get; set; }

    /// <summary>Stopwatch timestamps: submitted, first scheduled, first token.</summary>
    public long ArrivedAt { get; } = System.Diagnostics.Stopwatch.GetTimestamp();
    public long ScheduledAt { get; set; }
    public long FirstTokenAt { get; set; }
    public FinishReason? Finish { get; set; }

    /// <summary>Draft tokens proposed by the MTP module, verified by the main model in the next step.</summary>
    public List<int> Drafts { get; } = [];

    /// <summary>
    /// For each draft, the distribution it was drawn from as a dense vector over the vocabulary (null when drafted
    /// greedily), in an array rented from the shared pool that <see cref="ClearDrafts"/> returns: one of 129,280
    /// doubles is 1 MB a draft, which would otherwise go to the large object heap every step.
    /// </summary>
    public List<double[]?> DraftDistributions { get; } = [];

    public IReadOnlyList<int> Tokens => tokens;

    /// <summary>The token at a scheduled position: a real token, or a draft beyond the real ones.</summary>
    public int TokenAt(int position) => position < tokens.Count ? tokens[position] : Drafts[position - tokens.Count];

    public void ClearDrafts()
    {
        Drafts.Clear();
        foreach (var distribution in DraftDistributions)
            if (distribution is not null) ArrayPool<double>.Shared.Return(distribution);
        DraftDistributions.Clear();
    }
    public IReadOnlyDictionary<int, int> OutputCounts => outputCounts;
    public IReadOnlySet<int> SeenTokens => seenTokens;

    public ReadOnlySpan<int> TokenSpan(int start, int count) => System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tokens).Slice(start, count);

    public void Append(int token)
    {
        tokens.Add(token);
        seenTokens.Add(token);
        outputCounts[token] = outputCounts.GetValueOrDefault(token) + 1;
    }
}
