namespace ServerV3.Protocol;

/// <summary>Body of POST /detokenize (vLLM).</summary>
public sealed record DetokenizeRequest
{
    public string? Model { get; init; }

    public IReadOnlyList<int>? Tokens { get; init; }
}
