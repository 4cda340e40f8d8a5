namespace ServerV3.Protocol;

/// <summary>Body of POST /v1/completions.</summary>
public sealed record CompletionRequest : GenerationRequest
{
    public CompletionPrompt? Prompt { get; init; }

    /// <summary>Declared only so that a request using it can be refused (insertion is not supported).</summary>
    public string? Suffix { get; init; }

    public bool? Echo { get; init; }

    /// <summary>Number of most likely alternatives to return per token (0 returns only the sampled token's).</summary>
    public int? Logprobs { get; init; }
}
