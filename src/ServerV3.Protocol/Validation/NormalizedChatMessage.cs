namespace ServerV3.Protocol;

/// <summary>
/// A validated chat message for the chat template: role is system, user, assistant or tool
/// ("developer" becomes "system"); array content is joined into text. Content is null only for an
/// assistant message that just calls tools.
/// </summary>
public sealed record NormalizedChatMessage(string Role, string? Content)
{
    public IReadOnlyList<ToolCall> ToolCalls { get; init; } = [];

    public string? ToolCallId { get; init; }

    public string? Name { get; init; }
}
