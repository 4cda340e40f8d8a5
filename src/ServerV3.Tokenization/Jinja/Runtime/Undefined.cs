namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// Jinja2's default undefined value: renders as "", is falsy, iterates as empty and has length 0;
/// using it any further (attribute, arithmetic, call) raises the error its hint describes.
/// </summary>
internal sealed class Undefined(string hint)
{
    public string Hint { get; } = hint;

    public static Undefined Variable(string name) => new($"'{name}' is undefined");

    public static Undefined Member(object? owner, object? member) =>
        new($"'{JinjaValues.TypeName(owner)} object' has no attribute {PythonFormat.Repr(member)}");

    public JinjaException Error() => new(Hint);
}
