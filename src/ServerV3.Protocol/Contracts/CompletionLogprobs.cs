namespace ServerV3.Protocol;

/// <summary>
/// The legacy completions log-probability layout: parallel lists per token. With echo the first
/// prompt token has no log probability, hence the nullable entries.
/// </summary>
public sealed record CompletionLogprobs
{
    public required IReadOnlyList<string> Tokens { get; init; }

    public required IReadOnlyList<double?> TokenLogprobs { get; init; }

    /// <summary>Per token: alternative token text to log probability.</summary>
    public required IReadOnlyList<IReadOnlyDictionary<string, double>?> TopLogprobs { get; init; }

    /// <summary>Per token: its character offset in the choice's text.</summary>
    public required IReadOnlyList<int> TextOffset { get; init; }
}
