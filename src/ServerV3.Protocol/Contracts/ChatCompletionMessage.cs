using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>
/// The assistant message of a chat choice. As OpenAI sends it, content and refusal are always
/// present (content is null when the message only calls tools) and tool_calls only when there are any.
/// </summary>
public sealed record ChatCompletionMessage
{
    public string Role { get; init; } = ChatRoles.Assistant;

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Content { get; init; }

    [JsonIgnore(Condition = JsonIgnoreCondition.Never)]
    public string? Refusal { get; init; }

    public IReadOnlyList<ToolCall>? ToolCalls { get; init; }

    /// <summary>The message for generated text and the tool calls parsed from it.</summary>
    public static ChatCompletionMessage Assistant(string content, IReadOnlyList<ToolCall> toolCalls)
    {
        ArgumentNullException.ThrowIfNull(content);
        ArgumentNullException.ThrowIfNull(toolCalls);
        var hasCalls = toolCalls.Count > 0;
        return new ChatCompletionMessage
        {
            Content = hasCalls && content.Length == 0 ? null : content,
            ToolCalls = hasCalls ? toolCalls : null,
        };
    }
}
