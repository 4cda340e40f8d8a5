using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace ServerV3.Protocol;

/// <summary>
/// A location in a request body, parsed from the serializer's path syntax (<c>$.a[0]['b c']</c>):
/// turned into an OpenAI param (<c>a[0].b c</c>), looked up in the body, and resolved against the
/// contract's metadata to say what type belongs there.
/// </summary>
internal sealed class JsonPath
{
    private readonly List<Segment> _segments;

    private JsonPath(List<Segment> segments) => _segments = segments;

    public bool IsRoot => _segments.Count == 0;

    /// <summary>Parses "$…" or a relative path ("[0].text"); unparseable parts end the path.</summary>
    public static JsonPath Parse(string path)
    {
        var segments = new List<Segment>();
        var i = path.StartsWith('$') ? 1 : 0;
        while (i < path.Length)
        {
            if (path[i] == '.')
            {
                var end = path.IndexOfAny(['.', '['], i + 1);
                if (end < 0) end = path.Length;
                segments.Add(Segment.Property(path[(i + 1)..end]));
                i = end;
            }
            else if (path.AsSpan(i).StartsWith("['"))
            {
                var end = path.IndexOf("']", i + 2, StringComparison.Ordinal);
                if (end < 0) break;
                segments.Add(Segment.Property(path[(i + 2)..end].Replace("\\'", "'", StringComparison.Ordinal)));
                i = end + 2;
            }
            else if (path[i] == '[' && path.IndexOf(']', i) is var close and > 0 && int.TryParse(path.AsSpan(i + 1, close - i - 1), out var index))
            {
                segments.Add(Segment.Element(index));
                i = close + 1;
            }
            else
            {
                break;
            }
        }
        return new JsonPath(segments);
    }

    /// <summary>The OpenAI-style parameter name, e.g. <c>messages[0].content</c>.</summary>
    public string ToParam()
    {
        var param = new StringBuilder();
        foreach (var segment in _segments)
        {
            if (segment.Name is null) param.Append('[').Append(segment.Index).Append(']');
            else param.Append(param.Length == 0 ? "" : ".").Append(segment.Name);
        }
        return param.ToString();
    }

    /// <summary>The value at this path, if the body has one.</summary>
    public JsonElement? Find(JsonElement root)
    {
        var current = root;
        foreach (var segment in _segments)
        {
            if (segment.Name is { } name)
            {
                if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(name, out current)) return null;
            }
            else
            {
                if (current.ValueKind != JsonValueKind.Array || segment.Index >= current.GetArrayLength()) return null;
                current = current[segment.Index];
            }
        }
        return current;
    }

    /// <summary>The contract metadata of the value at this path; null when the path leaves the metadata (e.g. into a union).</summary>
    public JsonTypeInfo? FindTypeInfo(JsonTypeInfo root)
    {
        JsonTypeInfo? current = root;
        foreach (var segment in _segments)
        {
            var next = (segment.Name, current.Kind) switch
            {
                (null, JsonTypeInfoKind.Enumerable) or (not null, JsonTypeInfoKind.Dictionary) => current.ElementType,
                (not null, JsonTypeInfoKind.Object) => current.Properties.FirstOrDefault(p => p.Name == segment.Name)?.PropertyType,
                _ => null,
            };
            if (next is null) return null;
            current = current.Options.GetTypeInfo(next);
        }
        return current;
    }

    /// <param name="Name">Set for a property; null for an array element.</param>
    private readonly record struct Segment(string? Name, int Index)
    {
        public static Segment Property(string name) => new(name, 0);

        public static Segment Element(int index) => new(null, index);
    }
}
