namespace ServerV3.Protocol;

/// <summary>
/// A piece of a streamed tool call: the first piece of a call carries its id, type and name, later
/// pieces only more argument text; <see cref="Index"/> says which call it belongs to.
/// </summary>
public sealed record ToolCallDelta
{
    public required int Index { get; init; }

    public string? Id { get; init; }

    public string? Type { get; init; }

    public FunctionCallDelta? Function { get; init; }
}
