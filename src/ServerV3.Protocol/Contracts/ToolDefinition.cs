namespace ServerV3.Protocol;

/// <summary>An entry of a request's <c>tools</c>: <c>{"type": "function", "function": {...}}</c>.</summary>
public sealed record ToolDefinition
{
    public string? Type { get; init; }

    public FunctionDefinition? Function { get; init; }
}
