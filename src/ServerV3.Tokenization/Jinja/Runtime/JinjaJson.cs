using System.Globalization;
using System.Text;

namespace ServerV3.Tokenization.Jinja;

/// <summary>
/// The <c>tojson</c> filter as Hugging Face defines it for chat templates: Python's
/// <c>json.dumps(x, ensure_ascii=False, indent=..., separators=..., sort_keys=...)</c>, so tool
/// schemas render byte-for-byte as in Python (", " and ": " separators, no HTML escaping).
/// </summary>
internal static class JinjaJson
{
    public static string Serialize(object? value, int? indent, string? itemSeparator, string? keySeparator, bool sortKeys, bool ensureAscii)
    {
        var options = new Options(
            indent,
            itemSeparator ?? (indent is null ? ", " : ","),
            keySeparator ?? ": ",
            sortKeys,
            ensureAscii);
        var output = new StringBuilder();
        Write(output, value, options, 0);
        return output.ToString();
    }

    private static void Write(StringBuilder output, object? value, Options options, int level)
    {
        switch (value)
        {
            case null:
                output.Append("null");
                break;
            case bool flag:
                output.Append(flag ? "true" : "false");
                break;
            case long integer:
                output.Append(integer.ToString(CultureInfo.InvariantCulture));
                break;
            case double number:
                output.Append(double.IsNaN(number) ? "NaN" : double.IsInfinity(number) ? (number > 0 ? "Infinity" : "-Infinity") : PythonFormat.Float(number));
                break;
            case string text:
                WriteString(output, text, options.EnsureAscii);
                break;
            case IReadOnlyList<object?> list:
                WriteContainer(output, '[', ']', list, options, level, (item, _) => Write(output, item, options, level + 1));
                break;
            case OrderedDictionary<string, object?> dict:
                var entries = options.SortKeys ? dict.OrderBy(e => e.Key, StringComparer.Ordinal).ToList() : dict.ToList();
                WriteContainer(output, '{', '}', entries, options, level, (entry, _) =>
                {
                    WriteString(output, entry.Key, options.EnsureAscii);
                    output.Append(options.KeySeparator);
                    Write(output, entry.Value, options, level + 1);
                });
                break;
            default:
                throw new JinjaException($"Object of type {JinjaValues.TypeName(value)} is not JSON serializable");
        }
    }

    private static void WriteContainer<T>(StringBuilder output, char open, char close, IReadOnlyList<T> items, Options options, int level, Action<T, int> writeItem)
    {
        output.Append(open);
        if (items.Count == 0)
        {
            output.Append(close);
            return;
        }
        for (var i = 0; i < items.Count; i++)
        {
            if (i > 0)
                output.Append(options.ItemSeparator);
            if (options.Indent is { } indent)
                output.Append('\n').Append(' ', indent * (level + 1));
            writeItem(items[i], i);
        }
        if (options.Indent is { } closingIndent)
            output.Append('\n').Append(' ', closingIndent * level);
        output.Append(close);
    }

    private static void WriteString(StringBuilder output, string text, bool ensureAscii)
    {
        output.Append('"');
        foreach (var c in text)
        {
            switch (c)
            {
                case '"': output.Append("\\\""); break;
                case '\\': output.Append(@"\\"); break;
                case '\n': output.Append(@"\n"); break;
                case '\r': output.Append(@"\r"); break;
                case '\t': output.Append(@"\t"); break;
                case '\b': output.Append(@"\b"); break;
                case '\f': output.Append(@"\f"); break;
                case < ' ':
                case > '\x7e' when ensureAscii:
                    output.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
                    break;
                default: output.Append(c); break;
            }
        }
        output.Append('"');
    }

    private sealed record Options(int? Indent, string ItemSeparator, string KeySeparator, bool SortKeys, bool EnsureAscii);
}
