using System.Text.Json.Nodes;
using ServerV3.Tokenization.Jinja;

namespace ServerV3.Tokenization;

/// <summary>
/// Renders chat messages into the model's prompt with its Jinja chat template, passing the
/// variables Hugging Face's <c>apply_chat_template</c> passes (messages, tools, add_generation_prompt,
/// bos_token, eos_token). Encode the result with <c>addSpecialTokens: false</c>: the template
/// already writes BOS. Parses the template once; thread-safe.
/// </summary>
public sealed class ChatPromptBuilder
{
    private readonly JinjaTemplate _template;
    private readonly string? _bosToken;
    private readonly string? _eosToken;

    /// <exception cref="JinjaException">The template uses syntax this engine does not support.</exception>
    public ChatPromptBuilder(string chatTemplate, string? bosToken, string? eosToken)
    {
        _template = JinjaTemplate.Parse(chatTemplate);
        _bosToken = bosToken;
        _eosToken = eosToken;
    }

    /// <summary>Uses the chat template and BOS/EOS of a tokenizer's tokenizer_config.json.</summary>
    public static ChatPromptBuilder FromTokenizer(HfTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        var template = tokenizer.ChatTemplate
            ?? throw new InvalidOperationException("The tokenizer has no chat_template in tokenizer_config.json.");
        return new ChatPromptBuilder(template, tokenizer.BosToken, tokenizer.EosToken);
    }

    /// <summary>Renders the prompt.</summary>
    /// <param name="messages">The conversation.</param>
    /// <param name="tools">Tool definitions (OpenAI "tools" entries), or null for none.</param>
    /// <param name="addGenerationPrompt">End with the assistant prefix so the model answers.</param>
    /// <param name="extraVariables">Further template variables (e.g. a template's own switches).</param>
    /// <exception cref="JinjaRaisedException">The template rejected the conversation.</exception>
    /// <exception cref="JinjaException">The template failed to render.</exception>
    public string BuildPrompt(
        IReadOnlyList<ChatMessage> messages,
        IReadOnlyList<JsonNode>? tools = null,
        bool addGenerationPrompt = true,
        IReadOnlyDictionary<string, object?>? extraVariables = null)
    {
        ArgumentNullException.ThrowIfNull(messages);
        var variables = new Dictionary<string, object?>(StringComparer.Ordinal);
        if (extraVariables is not null)
        {
            foreach (var (name, value) in extraVariables)
                variables[name] = value;
        }
        variables["messages"] = messages.Select(ToTemplateMessage).ToList();
        variables["tools"] = tools?.ToList();
        variables["add_generation_prompt"] = addGenerationPrompt;
        variables["bos_token"] = _bosToken;
        variables["eos_token"] = _eosToken;
        return _template.Render(variables);
    }

    private static OrderedDictionary<string, object?> ToTemplateMessage(ChatMessage message)
    {
        var result = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["role"] = message.Role,
            ["content"] = message.Content,
        };
        if (message.ToolCalls is { } calls)
            result["tool_calls"] = calls.Select(ToTemplateToolCall).ToList();
        if (message.ToolCallId is { } toolCallId)
            result["tool_call_id"] = toolCallId;
        if (message.Name is { } name)
            result["name"] = name;
        return result;
    }

    private static OrderedDictionary<string, object?> ToTemplateToolCall(ChatToolCall call)
    {
        var result = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        if (call.Id is { } id)
            result["id"] = id;
        result["type"] = call.Type;
        result["function"] = new OrderedDictionary<string, object?>(StringComparer.Ordinal)
        {
            ["name"] = call.FunctionName,
            ["arguments"] = call.Arguments,
        };
        return result;
    }
}
