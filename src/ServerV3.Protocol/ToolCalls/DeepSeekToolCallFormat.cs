namespace ServerV3.Protocol;

/// <summary>
/// The tool-call tokens of DeepSeek-V3's chat template (U+FF5C "｜" and U+2581 "▁" inside). A
/// call is rendered as <c>&lt;｜tool▁call▁begin｜&gt;function&lt;｜tool▁sep｜&gt;NAME\n```json\nARGS\n```&lt;｜tool▁call▁end｜&gt;</c>;
/// calls are separated by "\n" and wrapped in calls-begin / calls-end.
/// </summary>
internal static class DeepSeekToolCallFormat
{
    public const string CallsBegin = "<｜tool▁calls▁begin｜>";
    public const string CallsEnd = "<｜tool▁calls▁end｜>";
    public const string CallBegin = "<｜tool▁call▁begin｜>";
    public const string CallEnd = "<｜tool▁call▁end｜>";
    public const string Separator = "<｜tool▁sep｜>";
    public const string ArgumentsFence = "```json";

    /// <summary>What switches from content to tool calls; a lone call-begin is accepted too.</summary>
    public static readonly string[] Starts = [CallsBegin, CallBegin];

    /// <summary>What may follow a finished call.</summary>
    public static readonly string[] AfterCall = [CallBegin, CallsEnd];

    public static readonly string[] ArgumentsEnd = [CallEnd];

    /// <summary>Characters trimmed from the end of arguments: the closing fence and the whitespace around it.</summary>
    public static readonly char[] ArgumentsTrailer = ['`', ' ', '\t', '\r', '\n'];
}
