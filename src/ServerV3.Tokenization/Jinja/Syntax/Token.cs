namespace ServerV3.Tokenization.Jinja;

/// <summary>A lexer token; <see cref="Value"/> holds the parsed literal of strings and numbers.</summary>
internal readonly record struct Token(TokenKind Kind, string Text, SourcePosition Position, object? Value = null)
{
    public bool Is(TokenKind kind, string text) => Kind == kind && Text == text;

    public bool IsOperator(string text) => Is(TokenKind.Operator, text);

    public bool IsName(string text) => Is(TokenKind.Name, text);

    public string Describe() => Kind switch
    {
        TokenKind.End => "end of template",
        TokenKind.VariableEnd or TokenKind.BlockEnd => $"end of tag '{Text.Trim()}'",
        _ => $"'{Text}'",
    };
}
