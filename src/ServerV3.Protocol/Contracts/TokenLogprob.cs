using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>A sampled token with its log probability and the most likely alternatives.</summary>
public sealed record TokenLogprob
{
    public required string Token { get; init; }

    public required double Logprob { get; init; }

    /// <summary>UTF-8 bytes of the token (a token can hold part of a character); null when unknown.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public IReadOnlyList<int>? Bytes { get; init; }

    public required IReadOnlyList<TopLogprob> TopLogprobs { get; init; }
}
