namespace ServerV3.Tokenization.Jinja;

/// <summary>A function value: a global such as <c>range</c>, a macro, or a bound string/dict method.</summary>
internal sealed class JinjaCallable(string name, Func<CallArguments, object?> invoke)
{
    public string Name { get; } = name;

    public object? Invoke(CallArguments arguments) => invoke(arguments);
}
