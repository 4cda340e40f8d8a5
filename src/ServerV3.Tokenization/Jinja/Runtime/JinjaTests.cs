namespace ServerV3.Tokenization.Jinja;

/// <summary>The built-in tests of <c>value is name(args)</c>.</summary>
internal static class JinjaTests
{
    private static readonly Dictionary<string, Func<object?, CallArguments, bool>> Tests = new(StringComparer.Ordinal)
    {
        ["defined"] = (v, a) => NoArguments(a, "defined", v is not Undefined),
        ["undefined"] = (v, a) => NoArguments(a, "undefined", v is Undefined),
        ["none"] = (v, a) => NoArguments(a, "none", v is null),
        ["boolean"] = (v, a) => NoArguments(a, "boolean", v is bool),
        ["true"] = (v, a) => NoArguments(a, "true", v is true),
        ["false"] = (v, a) => NoArguments(a, "false", v is false),
        ["integer"] = (v, a) => NoArguments(a, "integer", v is long),
        ["float"] = (v, a) => NoArguments(a, "float", v is double),
        ["number"] = (v, a) => NoArguments(a, "number", JinjaValues.IsNumber(v)),
        ["string"] = (v, a) => NoArguments(a, "string", v is string),
        ["mapping"] = (v, a) => NoArguments(a, "mapping", v is OrderedDictionary<string, object?>),
        ["iterable"] = (v, a) => NoArguments(a, "iterable", v is string or IReadOnlyList<object?> or OrderedDictionary<string, object?> or Undefined),
        ["sequence"] = (v, a) => NoArguments(a, "sequence", v is string or IReadOnlyList<object?> or OrderedDictionary<string, object?>),
        ["callable"] = (v, a) => NoArguments(a, "callable", v is JinjaCallable),
        ["odd"] = (v, a) => NoArguments(a, "odd", JinjaValues.ToLong(v) % 2 != 0),
        ["even"] = (v, a) => NoArguments(a, "even", JinjaValues.ToLong(v) % 2 == 0),
        ["divisibleby"] = (v, a) => JinjaValues.ToLong(v) % JinjaValues.ToLong(One(a, "divisibleby", "num")) == 0,
        ["lower"] = (v, a) => NoArguments(a, "lower", v is string s && s == s.ToLowerInvariant()),
        ["upper"] = (v, a) => NoArguments(a, "upper", v is string s && s == s.ToUpperInvariant()),
        ["in"] = (v, a) => JinjaValues.Contains(One(a, "in", "seq"), v),
        ["sameas"] = (v, a) => SameAs(v, One(a, "sameas", "other")),
        ["eq"] = Equal,
        ["equalto"] = Equal,
        ["=="] = Equal,
        ["ne"] = (v, a) => !JinjaValues.AreEqual(v, One(a, "ne", "other")),
        ["!="] = (v, a) => !JinjaValues.AreEqual(v, One(a, "!=", "other")),
        ["lt"] = (v, a) => JinjaValues.Compare(v, One(a, "lt", "other")) < 0,
        ["lessthan"] = (v, a) => JinjaValues.Compare(v, One(a, "lessthan", "other")) < 0,
        ["<"] = (v, a) => JinjaValues.Compare(v, One(a, "<", "other")) < 0,
        ["le"] = (v, a) => JinjaValues.Compare(v, One(a, "le", "other"), "<=") <= 0,
        ["<="] = (v, a) => JinjaValues.Compare(v, One(a, "<=", "other"), "<=") <= 0,
        ["gt"] = (v, a) => JinjaValues.Compare(v, One(a, "gt", "other"), ">") > 0,
        ["greaterthan"] = (v, a) => JinjaValues.Compare(v, One(a, "greaterthan", "other"), ">") > 0,
        [">"] = (v, a) => JinjaValues.Compare(v, One(a, ">", "other"), ">") > 0,
        ["ge"] = (v, a) => JinjaValues.Compare(v, One(a, "ge", "other"), ">=") >= 0,
        [">="] = (v, a) => JinjaValues.Compare(v, One(a, ">=", "other"), ">=") >= 0,
    };

    public static bool Contains(string name) => Tests.ContainsKey(name);

    public static bool Apply(string name, object? value, CallArguments arguments) =>
        Tests.TryGetValue(name, out var test) ? test(value, arguments) : throw new JinjaException($"No test named '{name}'");

    private static bool Equal(object? value, CallArguments arguments) => JinjaValues.AreEqual(value, One(arguments, "eq", "other"));

    private static bool SameAs(object? value, object? other) =>
        value is null or bool ? Equals(value, other) : ReferenceEquals(value, other);

    private static object? One(CallArguments arguments, string test, string parameter)
    {
        var bound = arguments.Bind(test, parameter);
        return bound.Has(0) ? bound.Get(0) : throw new JinjaException($"test '{test}' needs an argument");
    }

    private static bool NoArguments(CallArguments arguments, string test, bool result)
    {
        arguments.Bind(test);
        return result;
    }
}
