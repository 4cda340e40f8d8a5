using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>Log probabilities of a chat choice (or of one chunk's tokens when streaming).</summary>
public sealed record ChatCompletionLogprobs
{
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public required IReadOnlyList<TokenLogprob>? Content { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public IReadOnlyList<TokenLogprob>? Refusal { get; init; }
}
