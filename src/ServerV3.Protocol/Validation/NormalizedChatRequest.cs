namespace ServerV3.Protocol;

/// <summary>A validated chat completion request.</summary>
public sealed record NormalizedChatRequest(
    string Model,
    IReadOnlyList<NormalizedChatMessage> Messages,
    IReadOnlyList<FunctionDefinition> Tools,
    NormalizedToolChoice ToolChoice,
    GenerationOptions Generation)
{
    /// <summary>Whether the output should go through the tool-call parser.</summary>
    public bool ParsesToolCalls => Tools.Count > 0 && ToolChoice.Mode != ToolChoiceMode.None;
}
