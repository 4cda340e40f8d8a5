namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// A template that cannot be parsed or rendered: the message says what and, once known, where
/// (1-based line and column of the construct; 0 when no position applies).
/// </summary>
public class JinjaException : Exception
{
    public JinjaException()
    {
    }

    public JinjaException(string message)
        : base(message)
    {
        Reason = message;
    }

    public JinjaException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = message;
    }

    public JinjaException(string reason, int line, int column)
        : base(line > 0 ? $"{reason} (line {line}, column {column})" : reason)
    {
        Reason = reason;
        Line = line;
        Column = column;
    }

    /// <summary>The message without the position.</summary>
    public string Reason { get; } = string.Empty;

    public int Line { get; }

    public int Column { get; }

    /// <summary>The same error located at a construct, for errors raised by value helpers.</summary>
    internal virtual JinjaException At(SourcePosition position) => new(Reason, position.Line, position.Column);
}
