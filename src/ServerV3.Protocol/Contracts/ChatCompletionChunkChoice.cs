using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>One choice of a chat chunk; logprobs and finish_reason are sent even when null.</summary>
public sealed record ChatCompletionChunkChoice
{
    public required int Index { get; init; }

    public required ChatCompletionDelta Delta { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public ChatCompletionLogprobs? Logprobs { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? FinishReason { get; init; }
}
