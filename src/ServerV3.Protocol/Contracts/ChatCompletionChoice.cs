using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>One choice of a <see cref="ChatCompletion"/>; logprobs and finish_reason are sent even when null.</summary>
public sealed record ChatCompletionChoice
{
    public required int Index { get; init; }

    public required ChatCompletionMessage Message { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ChatCompletionLogprobs? Logprobs { get; init; }

    /// <summary>One of <see cref="FinishReasons"/>.</summary>
    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public required string? FinishReason { get; init; }
}
