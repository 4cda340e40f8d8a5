namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// The template itself refused the input through <c>raise_exception(message)</c>, e.g. "Conversation
/// roles must alternate": a client error, unlike a broken template.
/// </summary>
public sealed class JinjaRaisedException : JinjaException
{
    public JinjaRaisedException()
    {
    }

    public JinjaRaisedException(string message)
        : base(message)
    {
    }

    public JinjaRaisedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    private JinjaRaisedException(string reason, int line, int column)
        : base(reason, line, column)
    {
    }

    internal override JinjaException At(SourcePosition position) => new JinjaRaisedException(Reason, position.Line, position.Column);
}
