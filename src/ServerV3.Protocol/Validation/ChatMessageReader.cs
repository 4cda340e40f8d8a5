namespace ServerV3.Protocol;

/// <summary>Validates and normalizes the messages of a chat or tokenize request.</summary>
internal static class ChatMessageReader
{
    private const string ContentPartSeparator = "\n"; // as vLLM joins text parts

    public static IReadOnlyList<NormalizedChatMessage> Read(IReadOnlyList<ChatMessageParam?>? messages)
    {
        if (messages is null) throw new InvalidRequestException(ParameterErrors.Missing("messages"));
        if (messages.Count == 0) throw new InvalidRequestException(ParameterErrors.EmptyArray("messages"));
        return [.. messages.Select((message, i) => Read(message, $"messages[{i}]"))];
    }

    private static NormalizedChatMessage Read(ChatMessageParam? message, string param)
    {
        if (message is null) throw new InvalidRequestException(ParameterErrors.InvalidType(param, "an object", "null"));
        var content = message.Content is null ? null : Text(message.Content, $"{param}.content");
        switch (message.Role)
        {
            case null:
                throw new InvalidRequestException(ParameterErrors.Missing($"{param}.role"));
            case ChatRoles.System or ChatRoles.Developer or ChatRoles.User:
                return new NormalizedChatMessage(
                    message.Role == ChatRoles.User ? ChatRoles.User : ChatRoles.System,
                    content ?? throw Missing($"{param}.content"))
                { Name = message.Name };
            case ChatRoles.Tool:
                return new NormalizedChatMessage(ChatRoles.Tool, content ?? throw Missing($"{param}.content"))
                {
                    ToolCallId = string.IsNullOrEmpty(message.ToolCallId) ? throw Missing($"{param}.tool_call_id") : message.ToolCallId,
                    Name = message.Name,
                };
            case ChatRoles.Assistant:
                var toolCalls = (message.ToolCalls ?? []).Select((call, j) => ReadToolCall(call, $"{param}.tool_calls[{j}]")).ToList();
                if (content is null && toolCalls.Count == 0) throw Missing($"{param}.content");
                // Chat templates (DeepSeek's included) render tool calls only when content is null,
                // and clients often send "" beside tool calls.
                if (toolCalls.Count > 0 && string.IsNullOrEmpty(content)) content = null;
                return new NormalizedChatMessage(ChatRoles.Assistant, content) { ToolCalls = toolCalls, Name = message.Name };
            default:
                throw new InvalidRequestException(ParameterErrors.InvalidValue(
                    $"{param}.role",
                    $"Invalid value: '{message.Role}'. Supported values are: 'system', 'developer', 'user', 'assistant', and 'tool'."));
        }
    }

    private static string Text(MessageContent content, string param)
    {
        if (content.Parts is not { } parts) return content.Text!;
        return string.Join(ContentPartSeparator, parts.Select((part, j) => part switch
        {
            { Type: null } => throw Missing($"{param}[{j}].type"),
            { Type: not "text" } => throw new InvalidRequestException(ParameterErrors.InvalidValue(
                $"{param}[{j}].type",
                $"Invalid value: '{part.Type}'. Only 'text' content parts are supported.")),
            { Text: null } => throw Missing($"{param}[{j}].text"),
            _ => part.Text,
        }));
    }

    private static ToolCall ReadToolCall(ToolCallParam? call, string param)
    {
        if (call is null) throw new InvalidRequestException(ParameterErrors.InvalidType(param, "an object", "null"));
        if (call.Type is not (null or "function"))
            throw new InvalidRequestException(ParameterErrors.InvalidValue($"{param}.type", $"Invalid value: '{call.Type}'. Supported values are: 'function'."));
        var function = call.Function ?? throw Missing($"{param}.function");
        return new ToolCall
        {
            Id = call.Id ?? "",
            Function = new FunctionCall(
                string.IsNullOrEmpty(function.Name) ? throw Missing($"{param}.function.name") : function.Name,
                function.Arguments ?? throw Missing($"{param}.function.arguments")),
        };
    }

    private static InvalidRequestException Missing(string param) => new(ParameterErrors.Missing(param));
}
