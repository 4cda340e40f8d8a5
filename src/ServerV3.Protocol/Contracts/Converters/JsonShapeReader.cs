using System.Text.Json;

namespace ServerV3.Protocol;

/// <summary>Reads typed values for the union converters, throwing <see cref="JsonShapeException"/> on a wrong type.</summary>
internal static class JsonShapeReader
{
    public static string ReadString(ref Utf8JsonReader reader, string path) =>
        reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonShapeException("a string", path);

    public static string? ReadOptionalString(ref Utf8JsonReader reader, string path) =>
        reader.TokenType == JsonTokenType.Null ? null : ReadString(ref reader, path);

    public static int ReadInt(ref Utf8JsonReader reader, string path) =>
        reader.TokenType == JsonTokenType.Number && reader.TryGetInt32(out var value)
            ? value
            : throw new JsonShapeException("an integer", path);

    /// <summary>Reads an array (the reader is on its start) element by element.</summary>
    public static List<T> ReadArray<T>(ref Utf8JsonReader reader, string path, ElementReader<T> readElement)
    {
        var items = new List<T>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
            items.Add(readElement(ref reader, $"{path}[{items.Count}]"));
        return items;
    }

    /// <summary>Reads an object (the reader is on its start), handing each property value to <paramref name="readProperty"/>.</summary>
    public static void ReadObject(ref Utf8JsonReader reader, string path, PropertyReader readProperty)
    {
        if (reader.TokenType != JsonTokenType.StartObject) throw new JsonShapeException("an object", path);
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString()!;
            reader.Read();
            readProperty(ref reader, name);
        }
    }

    public delegate T ElementReader<out T>(ref Utf8JsonReader reader, string path);

    public delegate void PropertyReader(ref Utf8JsonReader reader, string name);
}
