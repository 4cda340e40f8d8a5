namespace ServerV3.Protocol;

/// <summary>One message of a chat request, any role (system, developer, user, assistant, tool).</summary>
public sealed record ChatMessageParam
{
    public string? Role { get; init; }

    public MessageContent? Content { get; init; }

    public string? Name { get; init; }

    /// <summary>Assistant messages: the calls the assistant made.</summary>
    public IReadOnlyList<ToolCallParam?>? ToolCalls { get; init; }

    /// <summary>Tool messages: the id of the call this message answers.</summary>
    public string? ToolCallId { get; init; }
}
