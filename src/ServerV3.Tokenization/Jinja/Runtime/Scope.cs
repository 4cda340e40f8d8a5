namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// Variables of one level: globals, template, a loop iteration or a macro call. Assignments stay
/// in their level, which is why a <c>set</c> inside a loop is gone after it (hence namespace()).
/// </summary>
internal sealed class Scope(Scope? parent)
{
    private readonly Dictionary<string, object?> _variables = new(StringComparer.Ordinal);

    private Scope? Parent { get; } = parent;

    public object? Lookup(string name)
    {
        for (var scope = this; scope is not null; scope = scope.Parent)
        {
            if (scope._variables.TryGetValue(name, out var value))
                return value;
        }
        return Undefined.Variable(name);
    }

    public void Set(string name, object? value) => _variables[name] = value;
}
