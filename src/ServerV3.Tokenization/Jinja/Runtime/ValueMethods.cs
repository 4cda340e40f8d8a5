using System.Text;

namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// The Python str and dict methods chat templates call (<c>content.strip()</c>,
/// <c>message.get('x')</c>, <c>d.items()</c>). Mutating methods stay out, as in Hugging Face's
/// immutable sandbox.
/// </summary>
internal static class ValueMethods
{
    public static JinjaCallable? Find(object? target, string name) => target switch
    {
        string text => StringMethod(text, name),
        OrderedDictionary<string, object?> dict => DictMethod(dict, name),
        _ => null,
    };

    private static JinjaCallable? StringMethod(string text, string name)
    {
        Func<CallArguments, object?>? method = name switch
        {
            "strip" => a => Strip(text, Chars(a, name), left: true, right: true),
            "lstrip" => a => Strip(text, Chars(a, name), left: true, right: false),
            "rstrip" => a => Strip(text, Chars(a, name), left: false, right: true),
            "split" => a => Split(text, a.Bind(name, "sep", "maxsplit")),
            "startswith" => a => Affix(text, a.Bind(name, "prefix").Get(0), (s, p) => s.StartsWith(p, StringComparison.Ordinal)),
            "endswith" => a => Affix(text, a.Bind(name, "suffix").Get(0), (s, p) => s.EndsWith(p, StringComparison.Ordinal)),
            "upper" => a => NoArguments(a, name, text.ToUpperInvariant()),
            "lower" => a => NoArguments(a, name, text.ToLowerInvariant()),
            "title" => a => NoArguments(a, name, Title(text)),
            "capitalize" => a => NoArguments(a, name, Capitalize(text)),
            "replace" => a => Replace(text, a.Bind(name, "old", "new", "count")),
            "find" => a => (long)text.IndexOf(RequireString(a.Bind(name, "sub").Get(0), name), StringComparison.Ordinal),
            "count" => a => Count(text, RequireString(a.Bind(name, "sub").Get(0), name)),
            "join" => a => string.Join(text, JinjaValues.Iterate(a.Bind(name, "iterable").Get(0)).Select(PythonFormat.Str)),
            "splitlines" => a => NoArguments(a, name, SplitLines(text)),
            "isdigit" => a => NoArguments(a, name, text.Length > 0 && text.All(char.IsDigit)),
            _ => null,
        };
        return method is null ? null : new JinjaCallable($"str.{name}", method);
    }

    private static JinjaCallable? DictMethod(OrderedDictionary<string, object?> dict, string name)
    {
        Func<CallArguments, object?>? method = name switch
        {
            "get" => a =>
            {
                var bound = a.Bind(name, "key", "default");
                return bound.Get(0) is string key && dict.TryGetValue(key, out var value) ? value : bound.Get(1);
            },
            "items" => a => NoArguments(a, name, dict.Select(e => (object?)new object?[] { e.Key, e.Value }).ToList()),
            "keys" => a => NoArguments(a, name, dict.Keys.Cast<object?>().ToList()),
            "values" => a => NoArguments(a, name, dict.Values.ToList()),
            _ => null,
        };
        return method is null ? null : new JinjaCallable($"dict.{name}", method);
    }

    public static string Strip(string text, string? chars, bool left, bool right)
    {
        Func<char, bool> strip = chars is null ? char.IsWhiteSpace : c => chars.Contains(c, StringComparison.Ordinal);
        int start = 0, end = text.Length;
        while (left && start < end && strip(text[start]))
            start++;
        while (right && end > start && strip(text[end - 1]))
            end--;
        return text[start..end];
    }

    private static string? Chars(CallArguments arguments, string name) =>
        arguments.Bind(name, "chars").Get(0) is string chars ? chars : null;

    private static object NoArguments(CallArguments arguments, string name, object result)
    {
        arguments.Bind(name);
        return result;
    }

    private static List<object?> Split(string text, CallArguments.Bound arguments)
    {
        var maxSplit = arguments.Get(1) is { } max ? JinjaValues.ToLong(max) : -1;
        var limit = maxSplit < 0 ? int.MaxValue : (int)Math.Min(int.MaxValue, maxSplit + 1);
        if (arguments.Get(0) is string separator)
        {
            if (separator.Length == 0)
                throw new JinjaException("empty separator");
            return [.. text.Split(separator, limit, StringSplitOptions.None)];
        }
        // No separator: split on runs of whitespace, ignoring leading and trailing ones.
        var parts = new List<object?>();
        var i = 0;
        while (true)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i]))
                i++;
            if (i >= text.Length)
                return parts;
            if (parts.Count == limit - 1)
            {
                parts.Add(Strip(text[i..], null, left: false, right: true));
                return parts;
            }
            var start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i]))
                i++;
            parts.Add(text[start..i]);
        }
    }

    private static List<object?> SplitLines(string text)
    {
        var lines = text.Split(["\r\n", "\n", "\r"], StringSplitOptions.None).Cast<object?>().ToList();
        // A final line break ends the last line rather than starting an empty one.
        if (lines.Count > 0 && (string)lines[^1]! == string.Empty)
            lines.RemoveAt(lines.Count - 1);
        return lines;
    }

    private static bool Affix(string text, object? affix, Func<string, string, bool> test) => affix switch
    {
        string single => test(text, single),
        IReadOnlyList<object?> several => several.Any(a => a is string s && test(text, s)),
        _ => throw new JinjaException($"startswith/endswith argument must be str or a tuple of str, not {JinjaValues.TypeName(affix)}"),
    };

    private static string Replace(string text, CallArguments.Bound arguments)
    {
        var old = RequireString(arguments.Get(0), "replace");
        var replacement = RequireString(arguments.Get(1), "replace");
        var count = arguments.Get(2) is { } limit ? JinjaValues.ToLong(limit) : -1;
        if (count < 0)
            return old.Length == 0 ? string.Concat(JinjaValues.CodePoints(text).Select(c => replacement + c)) + replacement : text.Replace(old, replacement, StringComparison.Ordinal);
        var result = new StringBuilder();
        var position = 0;
        for (var done = 0L; done < count && old.Length > 0; done++)
        {
            var found = text.IndexOf(old, position, StringComparison.Ordinal);
            if (found < 0)
                break;
            result.Append(text, position, found - position).Append(replacement);
            position = found + old.Length;
        }
        return result.Append(text, position, text.Length - position).ToString();
    }

    private static long Count(string text, string part)
    {
        if (part.Length == 0)
            return JinjaValues.Length(text) + 1;
        var count = 0L;
        for (var i = text.IndexOf(part, StringComparison.Ordinal); i >= 0; i = text.IndexOf(part, i + part.Length, StringComparison.Ordinal))
            count++;
        return count;
    }

    /// <summary>Python's str.title: each run of letters starts upper case, the rest lower case.</summary>
    public static string Title(string text)
    {
        var result = new StringBuilder(text.Length);
        var previousIsLetter = false;
        foreach (var c in text)
        {
            result.Append(previousIsLetter ? char.ToLowerInvariant(c) : char.ToUpperInvariant(c));
            previousIsLetter = char.IsLetter(c);
        }
        return result.ToString();
    }

    public static string Capitalize(string text) =>
        text.Length == 0 ? text : char.ToUpperInvariant(text[0]) + text[1..].ToLowerInvariant();

    private static string RequireString(object? value, string method) =>
        value as string ?? throw new JinjaException($"{method}() argument must be str, not {JinjaValues.TypeName(value)}");
}
