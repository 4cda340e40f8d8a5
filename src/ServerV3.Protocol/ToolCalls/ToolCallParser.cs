namespace ServerV3.Protocol;

/// <summary>Parses the tool calls of a whole (non-streamed) output.</summary>
public static class ToolCallParser
{
    /// <summary>Runs the text through <see cref="ToolCallStreamParser"/> in one piece, so both modes agree exactly.</summary>
    public static ParsedToolCalls Parse(string text)
    {
        var parser = new ToolCallStreamParser();
        var accumulator = new ChatDeltaAccumulator();
        accumulator.Add(parser.Push(text));
        accumulator.Add(parser.Finish());
        return accumulator.ToResult();
    }
}
