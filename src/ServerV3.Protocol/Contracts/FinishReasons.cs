namespace ServerV3.Protocol;

/// <summary>The values of finish_reason.</summary>
public static class FinishReasons
{
    /// <summary>End of sequence or a stop string.</summary>
    public const string Stop = "stop";

    /// <summary>max_tokens or the context length reached.</summary>
    public const string Length = "length";

    /// <summary>The model called tools.</summary>
    public const string ToolCalls = "tool_calls";
}
