namespace ServerV3.Protocol;

/// <summary>The function of a <see cref="ToolCallParam"/>: its name and JSON arguments text.</summary>
public sealed record FunctionCallParam
{
    public string? Name { get; init; }

    public string? Arguments { get; init; }
}
