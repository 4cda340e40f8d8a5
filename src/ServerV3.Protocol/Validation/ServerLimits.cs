namespace ServerV3.Protocol;

/// <summary>What the server serves and allows; requests are validated against it.</summary>
public sealed record ServerLimits
{
    /// <summary>Names the model answers to; the first is used when a request names none.</summary>
    public required IReadOnlyList<string> ServedModelNames { get; init; }

    /// <summary>Context length: prompt plus generated tokens.</summary>
    public required int MaxModelLength { get; init; }

    /// <summary>Largest n (choices per prompt).</summary>
    public int MaxN { get; init; } = 16;

    /// <summary>Largest max_tokens a request may ask for; null allows up to the context length.</summary>
    public int? MaxTokens { get; init; }

    /// <summary>Token ids must be below this (prompt ids, logit_bias keys, detokenize); null skips the check.</summary>
    public int? VocabularySize { get; init; }
}
