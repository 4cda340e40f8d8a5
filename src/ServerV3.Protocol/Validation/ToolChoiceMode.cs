namespace ServerV3.Protocol;

/// <summary>How the model may use tools.</summary>
public enum ToolChoiceMode
{
    /// <summary>No tool calls are parsed.</summary>
    None,

    /// <summary>The model decides.</summary>
    Auto,

    /// <summary>The client asked for at least one call (not enforced during decoding).</summary>
    Required,

    /// <summary>The client asked for one named function (not enforced during decoding).</summary>
    Function,
}
