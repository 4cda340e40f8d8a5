using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>
/// A request's <c>tool_choice</c>: a mode string ("none", "auto", "required") in <see cref="Mode"/>,
/// or the object <c>{"type": "function", "function": {"name": ...}}</c> in <see cref="Type"/> and
/// <see cref="FunctionName"/>.
/// </summary>
[JsonConverter(typeof(ToolChoiceConverter))]
public sealed record ToolChoice
{
    public string? Mode { get; init; }

    public string? Type { get; init; }

    public string? FunctionName { get; init; }
}
