using System.Collections;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServerV3.Tokenization.Jinja;

/// <summary>Turns .NET and JSON values into template values (see <see cref="JinjaValues"/>).</summary>
internal static class ValueConverter
{
    public static object? FromClr(object? value) => value switch
    {
        null => null,
        JsonNode node => FromJson(node),
        JsonElement element => FromJson(JsonSerializer.SerializeToNode(element)),
        string or bool or long or double or JinjaNamespace or JinjaCallable => value,
        int or short or byte or sbyte or ushort or uint => Convert.ToInt64(value, CultureInfo.InvariantCulture),
        float or decimal => Convert.ToDouble(value, CultureInfo.InvariantCulture),
        IDictionary<string, object?> dict => ToDict(dict),
        IReadOnlyDictionary<string, object?> dict => ToDict(dict),
        IEnumerable sequence => sequence.Cast<object?>().Select(FromClr).ToList(),
        _ => throw new ArgumentException($"A {value.GetType().Name} cannot be passed to a template; use JSON-like values."),
    };

    public static object? FromJson(JsonNode? node)
    {
        switch (node)
        {
            case null:
                return null;
            case JsonObject obj:
                var dict = new OrderedDictionary<string, object?>(obj.Count, StringComparer.Ordinal);
                foreach (var (key, child) in obj)
                    dict[key] = FromJson(child);
                return dict;
            case JsonArray array:
                return array.Select(FromJson).ToList();
            default:
                var value = node.AsValue();
                switch (value.GetValueKind())
                {
                    case JsonValueKind.String:
                        return value.GetValue<string>();
                    case JsonValueKind.True:
                        return true;
                    case JsonValueKind.False:
                        return false;
                    case JsonValueKind.Number:
                        // As Python's json module: "1" is an int, "1.0" and "1e3" are floats.
                        var text = value.ToJsonString();
                        if (text.AsSpan().IndexOfAny(".eE") < 0 && long.TryParse(text, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
                            return integer;
                        return double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture);
                    default:
                        return null;
                }
        }
    }

    private static OrderedDictionary<string, object?> ToDict(IEnumerable<KeyValuePair<string, object?>> entries)
    {
        var dict = new OrderedDictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, value) in entries)
            dict[key] = FromClr(value);
        return dict;
    }
}
