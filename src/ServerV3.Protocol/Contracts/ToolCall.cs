namespace ServerV3.Protocol;

/// <summary>A tool call the model made, as returned in a response message.</summary>
public sealed record ToolCall
{
    public required string Id { get; init; }

    public string Type { get; init; } = "function";

    public required FunctionCall Function { get; init; }
}
