using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary><c>content</c>: a string or an array of <c>{type, text}</c> parts (other part fields are skipped).</summary>
internal sealed class MessageContentConverter : JsonConverter<MessageContent>
{
    public override MessageContent Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType switch
        {
            JsonTokenType.String => MessageContent.FromText(reader.GetString()!),
            JsonTokenType.StartArray => MessageContent.FromParts(JsonShapeReader.ReadArray(ref reader, "", ReadPart)),
            _ => throw new JsonShapeException("one of a string or array of objects", ""),
        };

    public override void Write(Utf8JsonWriter writer, MessageContent value, JsonSerializerOptions options)
    {
        if (value.Parts is null)
        {
            writer.WriteStringValue(value.Text);
            return;
        }
        writer.WriteStartArray();
        foreach (var part in value.Parts)
        {
            writer.WriteStartObject();
            if (part.Type is not null) writer.WriteString("type", part.Type);
            if (part.Text is not null) writer.WriteString("text", part.Text);
            writer.WriteEndObject();
        }
        writer.WriteEndArray();
    }

    private static ContentPart ReadPart(ref Utf8JsonReader reader, string path)
    {
        string? type = null, text = null;
        JsonShapeReader.ReadObject(ref reader, path, (ref r, name) =>
        {
            switch (name)
            {
                case "type": type = JsonShapeReader.ReadOptionalString(ref r, path + ".type"); break;
                case "text": text = JsonShapeReader.ReadOptionalString(ref r, path + ".text"); break;
                default: r.Skip(); break;
            }
        });
        return new ContentPart { Type = type, Text = text };
    }
}
