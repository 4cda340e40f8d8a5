using System.Text.RegularExpressions;

namespace ServerV3.Protocol;

/// <summary>Validates a chat request's tools and tool_choice.</summary>
internal static partial class ToolReader
{
    public static IReadOnlyList<FunctionDefinition> ReadTools(IReadOnlyList<ToolDefinition?>? tools) =>
        [.. (tools ?? []).Select((tool, i) => ReadTool(tool, $"tools[{i}]"))];

    public static NormalizedToolChoice ReadToolChoice(ToolChoice? choice, IReadOnlyList<FunctionDefinition> tools)
    {
        if (choice is null) return new NormalizedToolChoice(tools.Count > 0 ? ToolChoiceMode.Auto : ToolChoiceMode.None);
        if (choice.Mode is { } mode)
        {
            return mode switch
            {
                "none" => new NormalizedToolChoice(ToolChoiceMode.None),
                // "auto" without tools is what many clients send by default: nothing to call.
                "auto" => new NormalizedToolChoice(tools.Count > 0 ? ToolChoiceMode.Auto : ToolChoiceMode.None),
                "required" when tools.Count == 0 => throw RequiresTools(),
                "required" => new NormalizedToolChoice(ToolChoiceMode.Required),
                _ => throw new InvalidRequestException(ParameterErrors.InvalidValue(
                    "tool_choice", $"Invalid value: '{mode}'. Supported values are: 'none', 'auto', and 'required'.")),
            };
        }
        if (choice.Type != "function")
            throw new InvalidRequestException(ParameterErrors.InvalidValue("tool_choice.type", $"Invalid value: '{choice.Type}'. Supported values are: 'function'."));
        if (choice.FunctionName is not { } name) throw new InvalidRequestException(ParameterErrors.Missing("tool_choice.function.name"));
        if (tools.Count == 0) throw RequiresTools();
        if (!tools.Any(tool => tool.Name == name))
            throw new InvalidRequestException(ParameterErrors.InvalidValue("tool_choice.function.name", $"Invalid value: '{name}'. No function of that name is in 'tools'."));
        return new NormalizedToolChoice(ToolChoiceMode.Function, name);
    }

    private static FunctionDefinition ReadTool(ToolDefinition? tool, string param)
    {
        if (tool is null) throw new InvalidRequestException(ParameterErrors.InvalidType(param, "an object", "null"));
        if (tool.Type is null) throw new InvalidRequestException(ParameterErrors.Missing($"{param}.type"));
        if (tool.Type != "function")
            throw new InvalidRequestException(ParameterErrors.InvalidValue($"{param}.type", $"Invalid value: '{tool.Type}'. Supported values are: 'function'."));
        var function = tool.Function ?? throw new InvalidRequestException(ParameterErrors.Missing($"{param}.function"));
        if (function.Name is null) throw new InvalidRequestException(ParameterErrors.Missing($"{param}.function.name"));
        // The name ends at a newline in DeepSeek's tool-call format, so only OpenAI's allowed characters pass.
        if (!FunctionName().IsMatch(function.Name))
        {
            throw new InvalidRequestException(ParameterErrors.InvalidValue(
                $"{param}.function.name",
                $"Invalid '{param}.function.name': string does not match pattern. Expected a string that matches the pattern '^[a-zA-Z0-9_-]{{1,64}}$'."));
        }
        return function;
    }

    private static InvalidRequestException RequiresTools() =>
        new(ParameterErrors.InvalidValue("tool_choice", "'tool_choice' requires 'tools' to be given."));

    [GeneratedRegex("^[a-zA-Z0-9_-]{1,64}$")]
    private static partial Regex FunctionName();
}
