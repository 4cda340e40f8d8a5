namespace ServerV3.Tokenization.Jinja;

/// <summary>Evaluated arguments of a call, filter or test, bound to parameters Python-style.</summary>
internal sealed class CallArguments(IReadOnlyList<object?> positional, IReadOnlyDictionary<string, object?> named)
{
    private static readonly object MissingMarker = new();

    public static CallArguments Empty { get; } = new([], new Dictionary<string, object?>());

    public IReadOnlyList<object?> Positional { get; } = positional;

    public IReadOnlyDictionary<string, object?> Named { get; } = named;

    /// <summary>
    /// Matches the arguments to <paramref name="parameters"/> (positional first, then by name),
    /// rejecting extra or unknown ones as Python would.
    /// </summary>
    public Bound Bind(string function, params string[] parameters)
    {
        if (Positional.Count > parameters.Length)
            throw new JinjaException($"{function}() takes at most {parameters.Length} argument(s) ({Positional.Count} given)");
        var values = new object?[parameters.Length];
        Array.Fill(values, MissingMarker);
        for (var i = 0; i < Positional.Count; i++)
            values[i] = Positional[i];
        foreach (var (name, value) in Named)
        {
            var index = Array.IndexOf(parameters, name);
            if (index < 0)
                throw new JinjaException($"{function}() got an unexpected keyword argument '{name}'");
            if (values[index] != MissingMarker)
                throw new JinjaException($"{function}() got multiple values for argument '{name}'");
            values[index] = value;
        }
        return new Bound(values);
    }

    /// <summary>Bound parameter values; unsupplied ones fall back to a default.</summary>
    internal readonly struct Bound(object?[] values)
    {
        public bool Has(int index) => values[index] != MissingMarker;

        public object? Get(int index, object? fallback = null) => Has(index) ? values[index] : fallback;
    }
}
