using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>One choice of a <see cref="Completion"/>; logprobs and finish_reason are sent even when null.</summary>
public sealed record CompletionChoice
{
    public required string Text { get; init; }

    public required int Index { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public CompletionLogprobs? Logprobs { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }
}
