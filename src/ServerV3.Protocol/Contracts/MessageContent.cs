using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>
/// A message's content: either a plain string (<see cref="Text"/>) or an array of content parts
/// (<see cref="Parts"/>); exactly one of the two is set.
/// </summary>
[JsonConverter(typeof(MessageContentConverter))]
public sealed record MessageContent
{
    public string? Text { get; init; }

    public IReadOnlyList<ContentPart>? Parts { get; init; }

    public static MessageContent FromText(string text) => new() { Text = text };

    public static MessageContent FromParts(IReadOnlyList<ContentPart> parts) => new() { Parts = parts };
}
