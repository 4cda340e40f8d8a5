namespace ServerV3.Protocol;

/// <summary>What a chunk adds to a choice's message; unset fields are left out (an empty delta is <c>{}</c>).</summary>
public sealed record ChatCompletionDelta
{
    public string? Role { get; init; }

    public string? Content { get; init; }

    public IReadOnlyList<ToolCallDelta>? ToolCalls { get; init; }
}
