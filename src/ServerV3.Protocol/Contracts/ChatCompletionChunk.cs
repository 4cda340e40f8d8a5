using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>
/// One server-sent event of a streaming chat completion (object "chat.completion.chunk"). Usage is
/// only set on the last chunk of a stream that asked for it, whose choices are empty.
/// </summary>
public sealed record ChatCompletionChunk
{
    public required string Id { get; init; }

    public string Object => "chat.completion.chunk";

    public required long Created { get; init; }

    public required string Model { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? SystemFingerprint { get; init; }

    public required IReadOnlyList<ChatCompletionChunkChoice> Choices { get; init; }

    public Usage? Usage { get; init; }
}
