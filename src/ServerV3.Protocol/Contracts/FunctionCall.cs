namespace ServerV3.Protocol;

/// <summary>The function of a <see cref="ToolCall"/>: its name and the JSON text of its arguments.</summary>
public sealed record FunctionCall(string Name, string Arguments);
