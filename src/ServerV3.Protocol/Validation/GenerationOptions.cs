namespace ServerV3.Protocol;

/// <summary>
/// Validated sampling and output options of a chat or completion request, defaults applied:
/// temperature 1, top_p 1, top_k 0 (off), min_p 0, penalties 0, repetition_penalty 1.
/// </summary>
public sealed record GenerationOptions
{
    /// <summary>Requested limit on generated tokens; null means up to the context length (see <see cref="RequestValidator.CheckContextLength(int, NormalizedChatRequest, ServerLimits)"/>).</summary>
    public int? MaxTokens { get; init; }

    public int N { get; init; } = 1;

    public double Temperature { get; init; } = 1.0;

    public double TopP { get; init; } = 1.0;

    /// <summary>0 disables top-k (the request's -1 is mapped to 0).</summary>
    public int TopK { get; init; }

    public double MinP { get; init; }

    public double PresencePenalty { get; init; }

    public double FrequencyPenalty { get; init; }

    public double RepetitionPenalty { get; init; } = 1.0;

    public long? Seed { get; init; }

    public IReadOnlyDictionary<int, double> LogitBias { get; init; } = new Dictionary<int, double>();

    /// <summary>Stop strings (never empty strings); the matched one is not returned.</summary>
    public IReadOnlyList<string> Stop { get; init; } = [];

    public bool IgnoreEos { get; init; }

    /// <summary>Number of alternatives to report per token when log probabilities were asked for; null when not.</summary>
    public int? Logprobs { get; init; }

    public bool Stream { get; init; }

    /// <summary>Streaming only: end with a usage chunk.</summary>
    public bool IncludeUsage { get; init; }
}
