namespace ServerV3.Protocol;

/// <summary>The function part of a <see cref="ToolCallDelta"/>.</summary>
public sealed record FunctionCallDelta
{
    public string? Name { get; init; }

    public string? Arguments { get; init; }
}
