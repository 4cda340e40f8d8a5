namespace ServerV3.Protocol;

/// <summary>One element of an array content: only <c>{"type": "text", "text": ...}</c> is supported.</summary>
public sealed record ContentPart
{
    public string? Type { get; init; }

    public string? Text { get; init; }
}
