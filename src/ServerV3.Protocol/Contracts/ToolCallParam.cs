namespace ServerV3.Protocol;

/// <summary>A tool call in an assistant message of a request (fields unchecked until validation).</summary>
public sealed record ToolCallParam
{
    public string? Id { get; init; }

    public string? Type { get; init; }

    public FunctionCallParam? Function { get; init; }
}
