using System.Globalization;

namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// The built-in filters of <c>value|name(args)</c> that chat templates use; <c>tojson</c> follows
/// Hugging Face's override of Jinja2's (no HTML escaping, non-ASCII kept).
/// </summary>
internal static class JinjaFilters
{
    private static readonly Dictionary<string, Func<object?, CallArguments, object?>> Filters = new(StringComparer.Ordinal)
    {
        ["abs"] = (v, a) => NoArguments(a, "abs", v switch
        {
            long integer => (object)Math.Abs(integer),
            double number => Math.Abs(number),
            _ => JinjaValues.ToLong(v) is var n && n < 0 ? -n : n,
        }),
        ["capitalize"] = (v, a) => NoArguments(a, "capitalize", ValueMethods.Capitalize(PythonFormat.Str(v))),
        ["count"] = (v, a) => NoArguments(a, "count", JinjaValues.Length(v)),
        ["length"] = (v, a) => NoArguments(a, "length", JinjaValues.Length(v)),
        ["default"] = Default,
        ["d"] = Default,
        ["first"] = (v, a) => NoArguments(a, "first", JinjaValues.Iterate(v) is { Count: > 0 } items ? items[0] : new Undefined("No first item, sequence was empty.")),
        ["last"] = (v, a) => NoArguments(a, "last", JinjaValues.Iterate(v) is { Count: > 0 } items ? items[^1] : new Undefined("No last item, sequence was empty.")),
        ["float"] = (v, a) => ToFloat(v, a.Bind("float", "default").Get(0, 0.0)),
        ["int"] = (v, a) => ToInt(v, a.Bind("int", "default", "base")),
        ["indent"] = Indent,
        ["items"] = (v, a) => NoArguments(a, "items", v switch
        {
            OrderedDictionary<string, object?> dict => dict.Select(e => (object?)new object?[] { e.Key, e.Value }).ToList(),
            Undefined => [],
            _ => throw new JinjaException($"Can only get item pairs from a mapping, not {JinjaValues.TypeName(v)}"),
        }),
        ["join"] = Join,
        ["list"] = (v, a) => NoArguments(a, "list", JinjaValues.Iterate(v).ToList()),
        ["lower"] = (v, a) => NoArguments(a, "lower", PythonFormat.Str(v).ToLowerInvariant()),
        ["upper"] = (v, a) => NoArguments(a, "upper", PythonFormat.Str(v).ToUpperInvariant()),
        ["title"] = (v, a) => NoArguments(a, "title", ValueMethods.Title(PythonFormat.Str(v))),
        ["map"] = Map,
        ["max"] = (v, a) => Extreme(v, a, "max", sign: 1),
        ["min"] = (v, a) => Extreme(v, a, "min", sign: -1),
        ["select"] = (v, a) => Select(v, a, byAttribute: false, keep: true),
        ["reject"] = (v, a) => Select(v, a, byAttribute: false, keep: false),
        ["selectattr"] = (v, a) => Select(v, a, byAttribute: true, keep: true),
        ["rejectattr"] = (v, a) => Select(v, a, byAttribute: true, keep: false),
        ["replace"] = (v, a) => ValueMethods.Find(PythonFormat.Str(v), "replace")!.Invoke(a),
        ["reverse"] = (v, a) => NoArguments(a, "reverse", v is string text
            ? string.Concat(JinjaValues.CodePoints(text).AsEnumerable().Reverse())
            : JinjaValues.Iterate(v).Reverse().ToList()),
        ["round"] = Round,
        ["safe"] = (v, a) => NoArguments(a, "safe", v),
        ["sort"] = Sort,
        ["string"] = (v, a) => NoArguments(a, "string", PythonFormat.Str(v)),
        ["sum"] = Sum,
        ["tojson"] = ToJson,
        ["trim"] = (v, a) => ValueMethods.Strip(PythonFormat.Str(v), a.Bind("trim", "chars").Get(0) as string, left: true, right: true),
        ["unique"] = Unique,
    };

    public static bool Contains(string name) => Filters.ContainsKey(name);

    public static object? Apply(string name, object? value, CallArguments arguments) =>
        Filters.TryGetValue(name, out var filter) ? filter(value, arguments) : throw new JinjaException($"No filter named '{name}'");

    private static object? NoArguments(CallArguments arguments, string filter, object? result)
    {
        arguments.Bind(filter);
        return result;
    }

    private static object? Default(object? value, CallArguments arguments)
    {
        var bound = arguments.Bind("default", "default_value", "boolean");
        var useDefault = value is Undefined || (JinjaValues.IsTruthy(bound.Get(1, false)) && !JinjaValues.IsTruthy(value));
        return useDefault ? bound.Get(0, string.Empty) : value;
    }

    private static object? ToFloat(object? value, object? fallback) => value switch
    {
        double number => number,
        long or bool => JinjaValues.ToDouble(value),
        string text when double.TryParse(text.Trim(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
        _ => fallback,
    };

    private static object? ToInt(object? value, CallArguments.Bound arguments)
    {
        var fallback = arguments.Get(0, 0L);
        var numberBase = (int)JinjaValues.ToLong(arguments.Get(1, 10L));
        switch (value)
        {
            case long or bool:
                return JinjaValues.ToLong(value);
            case double number:
                return double.IsFinite(number) ? (long)Math.Truncate(number) : fallback;
            case string text:
                var digits = text.Trim().Replace("_", string.Empty, StringComparison.Ordinal);
                try
                {
                    return numberBase == 10 ? long.Parse(digits, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture) : Convert.ToInt64(digits, numberBase);
                }
                catch (Exception e) when (e is FormatException or OverflowException or ArgumentException)
                {
                    return ToFloat(text, null) is double parsed && double.IsFinite(parsed) ? (long)Math.Truncate(parsed) : fallback;
                }
            default:
                return fallback;
        }
    }

    private static object? Indent(object? value, CallArguments arguments)
    {
        var bound = arguments.Bind("indent", "width", "first", "blank");
        var indentation = bound.Get(0, 4L) is string text ? text : new string(' ', (int)JinjaValues.ToLong(bound.Get(0, 4L)));
        var lines = (PythonFormat.Str(value) + "\n").Split(["\r\n", "\n", "\r"], StringSplitOptions.None).SkipLast(1).ToList();
        string result;
        if (JinjaValues.IsTruthy(bound.Get(2, false)))
            result = string.Join("\n" + indentation, lines);
        else
            result = lines[0] + string.Concat(lines.Skip(1).Select(line => "\n" + (line.Length > 0 ? indentation + line : line)));
        return JinjaValues.IsTruthy(bound.Get(1, false)) ? indentation + result : result;
    }

    private static object? Join(object? value, CallArguments arguments)
    {
        var bound = arguments.Bind("join", "d", "attribute");
        var items = JinjaValues.Iterate(value).Select(Getter(bound.Get(1)));
        return string.Join(PythonFormat.Str(bound.Get(0, string.Empty)), items.Select(PythonFormat.Str));
    }

    // map(attribute="x", default=...) or map("filter", args...).
    private static object? Map(object? value, CallArguments arguments)
    {
        var items = JinjaValues.Iterate(value);
        if (arguments.Positional.Count == 0)
        {
            var bound = arguments.Bind("map", "attribute", "default");
            if (!bound.Has(0))
                throw new JinjaException("map() needs a filter name or attribute=");
            var get = Getter(bound.Get(0));
            return items.Select(item => get(item) is Undefined && bound.Has(1) ? bound.Get(1) : get(item)).ToList();
        }
        var filter = arguments.Positional[0] as string ?? throw new JinjaException("map() filter name must be a string");
        var rest = new CallArguments(arguments.Positional.Skip(1).ToList(), arguments.Named);
        return items.Select(item => Apply(filter, item, rest)).ToList();
    }

    // select("test", args...), selectattr("attr", "test", args...); without a test, truthiness.
    private static object? Select(object? value, CallArguments arguments, bool byAttribute, bool keep)
    {
        var positional = arguments.Positional;
        var get = byAttribute
            ? Getter(positional.Count > 0 ? positional[0] : throw new JinjaException("selectattr()/rejectattr() need an attribute"))
            : (item => item);
        var testAt = byAttribute ? 1 : 0;
        var test = positional.Count > testAt ? positional[testAt] as string ?? throw new JinjaException("test name must be a string") : null;
        var testArguments = new CallArguments(positional.Skip(testAt + 1).ToList(), arguments.Named);
        return JinjaValues.Iterate(value)
            .Where(item => (test is null ? JinjaValues.IsTruthy(get(item)) : JinjaTests.Apply(test, get(item), testArguments)) == keep)
            .ToList();
    }

    private static object? Extreme(object? value, CallArguments arguments, string name, int sign)
    {
        var bound = arguments.Bind(name, "case_sensitive", "attribute");
        var key = SortKey(bound.Get(1), JinjaValues.IsTruthy(bound.Get(0, false)));
        var items = JinjaValues.Iterate(value);
        if (items.Count == 0)
            return new Undefined("No aggregated item, sequence was empty.");
        return items.Aggregate((best, item) => sign * JinjaValues.Compare(key(item), key(best)) > 0 ? item : best);
    }

    private static object? Round(object? value, CallArguments arguments)
    {
        var bound = arguments.Bind("round", "precision", "method");
        var precision = (int)JinjaValues.ToLong(bound.Get(0, 0L));
        var method = bound.Get(1, "common") as string;
        if (method == "common" && value is long)
            return value;
        var number = JinjaValues.ToDouble(value);
        var scale = Math.Pow(10, precision);
        return method switch
        {
            "common" => Math.Round(number, Math.Clamp(precision, 0, 15), MidpointRounding.ToEven),
            "ceil" => Math.Ceiling(number * scale) / scale,
            "floor" => Math.Floor(number * scale) / scale,
            _ => throw new JinjaException("method must be common, ceil or floor"),
        };
    }

    private static object? Sort(object? value, CallArguments arguments)
    {
        var bound = arguments.Bind("sort", "reverse", "case_sensitive", "attribute");
        var key = SortKey(bound.Get(2), JinjaValues.IsTruthy(bound.Get(1, false)));
        var sorted = JinjaValues.Iterate(value).Order(Comparer<object?>.Create((x, y) => JinjaValues.Compare(key(x), key(y)))).ToList();
        if (JinjaValues.IsTruthy(bound.Get(0, false)))
            sorted.Reverse();
        return sorted;
    }

    private static object? Sum(object? value, CallArguments arguments)
    {
        var bound = arguments.Bind("sum", "attribute", "start");
        var get = Getter(bound.Get(0));
        return JinjaValues.Iterate(value).Aggregate(bound.Get(1, 0L), (total, item) => JinjaValues.Arithmetic("+", total, get(item)));
    }

    private static object? ToJson(object? value, CallArguments arguments)
    {
        var bound = arguments.Bind("tojson", "ensure_ascii", "indent", "separators", "sort_keys");
        var indent = bound.Get(1) is { } width ? (int?)JinjaValues.ToLong(width) : null;
        var separators = bound.Get(2) as IReadOnlyList<object?>;
        return JinjaJson.Serialize(
            value,
            indent,
            separators?[0] as string,
            separators?[1] as string,
            JinjaValues.IsTruthy(bound.Get(3, false)),
            JinjaValues.IsTruthy(bound.Get(0, false)));
    }

    private static object? Unique(object? value, CallArguments arguments)
    {
        var bound = arguments.Bind("unique", "case_sensitive", "attribute");
        var key = SortKey(bound.Get(1), JinjaValues.IsTruthy(bound.Get(0, false)));
        var seen = new List<object?>();
        var result = new List<object?>();
        foreach (var item in JinjaValues.Iterate(value))
        {
            var itemKey = key(item);
            if (seen.Any(s => JinjaValues.AreEqual(s, itemKey)))
                continue;
            seen.Add(itemKey);
            result.Add(item);
        }
        return result;
    }

    private static Func<object?, object?> Getter(object? attribute) => attribute switch
    {
        null => item => item,
        string path => item => JinjaValues.GetPath(item, path),
        long index => item => JinjaValues.GetItem(item, index),
        _ => throw new JinjaException($"attribute must be a string or an integer, not {JinjaValues.TypeName(attribute)}"),
    };

    // Sorting and comparing ignore case unless case_sensitive is set, as in Jinja2.
    private static Func<object?, object?> SortKey(object? attribute, bool caseSensitive)
    {
        var get = Getter(attribute);
        return caseSensitive ? get : item => get(item) is string text ? text.ToLowerInvariant() : get(item);
    }
}
