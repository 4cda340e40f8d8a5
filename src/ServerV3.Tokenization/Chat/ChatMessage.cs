namespace ServerV3.Tokenization;

/// <summary>
/// One message of a chat request. <see cref="Content"/> is null for an assistant message that
/// only makes tool calls; optional fields are left out of the template's message when null, so
/// <c>message.tool_calls is defined</c> works as with Hugging Face.
/// </summary>
public sealed record ChatMessage(string Role, string? Content)
{
    public IReadOnlyList<ChatToolCall>? ToolCalls { get; init; }

    /// <summary>For role "tool": the id of the call this message answers.</summary>
    public string? ToolCallId { get; init; }

    public string? Name { get; init; }
}
