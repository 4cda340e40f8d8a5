using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>Response of a non-streaming chat completion (object "chat.completion").</summary>
public sealed record ChatCompletion
{
    public required string Id { get; init; }

    public string Object => "chat.completion";

    public required long Created { get; init; }

    public required string Model { get; init; }

    public required IReadOnlyList<ChatCompletionChoice> Choices { get; init; }

    public required Usage Usage { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? SystemFingerprint { get; init; }
}
