using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary><c>stop</c>: a string or a list of strings, read as a list and always written as one.</summary>
internal sealed class StopSequencesConverter : JsonConverter<IReadOnlyList<string>>
{
    public override IReadOnlyList<string> Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.String => [reader.GetString()!],
            JsonTokenType.StartArray => JsonShapeReader.ReadArray(ref reader, "", JsonShapeReader.ReadString),
            _ => throw new JsonShapeException("one of a string or array of strings", ""),
        };

    public override void Write(Utf8JsonWriter writer, IReadOnlyList<string> value, JsonSerializerOptions options)
    {
        writer.WriteStartArray();
        foreach (var stop in value) writer.WriteStringValue(stop);
        writer.WriteEndArray();
    }
}
