using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>
/// Response of POST /v1/completions, and (as OpenAI does) each chunk of its stream: object
/// "text_completion" in both. Usage is left out of stream chunks except the last usage chunk.
/// </summary>
public sealed record Completion
{
    public required string Id { get; init; }

    public string Object => "text_completion";

    public required long Created { get; init; }

    public required string Model { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? SystemFingerprint { get; init; }

    public required IReadOnlyList<CompletionChoice> Choices { get; init; }

    public Usage? Usage { get; init; }
}
