namespace ServerV3.Protocol;

/// <summary>
/// Generated text split into the content before the tool calls and the calls themselves. Build the
/// response message with <see cref="ChatCompletionMessage.Assistant"/>.
/// </summary>
public sealed record ParsedToolCalls(string Content, IReadOnlyList<ToolCall> ToolCalls);
