using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary><c>tool_choice</c>: a mode string or <c>{"type": "function", "function": {"name": ...}}</c>.</summary>
internal sealed class ToolChoiceConverter : JsonConverter<ToolChoice>
{
    public override ToolChoice Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        switch (reader.TokenType)
        {
            case JsonTokenType.String:
                return new ToolChoice { Mode = reader.GetString() };
            case JsonTokenType.StartObject:
                string? type = null, functionName = null;
                JsonShapeReader.ReadObject(ref reader, "", (ref r, name) =>
                {
                    switch (name)
                    {
                        case "type": type = JsonShapeReader.ReadOptionalString(ref r, ".type"); break;
                        case "function": functionName = ReadFunctionName(ref r); break;
                        default: r.Skip(); break;
                    }
                });
                return new ToolChoice { Type = type, FunctionName = functionName };
            default:
                throw new JsonShapeException("one of a string or object", "");
        }
    }

    public override void Write(Utf8JsonWriter writer, ToolChoice value, JsonSerializerOptions options)
    {
        if (value.Mode is not null)
        {
            writer.WriteStringValue(value.Mode);
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("type", value.Type);
        writer.WriteStartObject("function");
        writer.WriteString("name", value.FunctionName);
        writer.WriteEndObject();
        writer.WriteEndObject();
    }

    private static string? ReadFunctionName(ref Utf8JsonReader reader)
    {
        string? functionName = null;
        JsonShapeReader.ReadObject(ref reader, ".function", (ref r, name) =>
        {
            if (name == "name") functionName = JsonShapeReader.ReadOptionalString(ref r, ".function.name");
            else r.Skip();
        });
        return functionName;
    }
}
