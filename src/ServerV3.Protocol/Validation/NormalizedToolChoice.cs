namespace ServerV3.Protocol;

/// <summary>A validated tool_choice; <see cref="FunctionName"/> is set for <see cref="ToolChoiceMode.Function"/>.</summary>
public sealed record NormalizedToolChoice(ToolChoiceMode Mode, string? FunctionName = null);
