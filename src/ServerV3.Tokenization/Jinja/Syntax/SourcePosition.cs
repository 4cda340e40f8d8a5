namespace ServerV3.Tokenization.Jinja;

/// <summary>1-based line and column of a construct in the template source.</summary>
internal readonly record struct SourcePosition(int Line, int Column);
