using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>One of the most likely tokens at a position.</summary>
public sealed record TopLogprob
{
    public required string Token { get; init; }

    public required double Logprob { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public IReadOnlyList<int>? Bytes { get; init; }
}
