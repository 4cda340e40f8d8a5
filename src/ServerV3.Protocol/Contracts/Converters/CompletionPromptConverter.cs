using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>
/// <c>prompt</c>: a string, a list of strings, a list of token ids or a list of token-id lists; the
/// first element of a list decides which list it is.
/// </summary>
internal sealed class CompletionPromptConverter : JsonConverter<CompletionPrompt>
{
    private const string Expected = "one of a string, array of strings, array of integers or array of integer arrays";

    public override CompletionPrompt Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
            return new CompletionPrompt([PromptInput.FromText(reader.GetString()!)], IsBatch: false);
        if (reader.TokenType != JsonTokenType.StartArray) throw new JsonShapeException(Expected, "");

        var inputs = new List<PromptInput>();
        var tokenIds = new List<int>();
        JsonTokenType? listKind = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            var path = $"[{inputs.Count + tokenIds.Count}]";
            listKind ??= reader.TokenType;
            switch (listKind)
            {
                case JsonTokenType.String:
                    inputs.Add(PromptInput.FromText(JsonShapeReader.ReadString(ref reader, path)));
                    break;
                case JsonTokenType.Number:
                    tokenIds.Add(JsonShapeReader.ReadInt(ref reader, path));
                    break;
                case JsonTokenType.StartArray when reader.TokenType == JsonTokenType.StartArray:
                    inputs.Add(PromptInput.FromTokenIds(JsonShapeReader.ReadArray(ref reader, path, JsonShapeReader.ReadInt)));
                    break;
                case JsonTokenType.StartArray:
                    throw new JsonShapeException("an array of integers", path);
                default:
                    throw new JsonShapeException("one of a string, integer or array of integers", path);
            }
        }
        return listKind == JsonTokenType.Number
            ? new CompletionPrompt([PromptInput.FromTokenIds(tokenIds)], IsBatch: false)
            : new CompletionPrompt(inputs, IsBatch: true);
    }

    public override void Write(Utf8JsonWriter writer, CompletionPrompt value, JsonSerializerOptions options)
    {
        if (value.IsBatch) writer.WriteStartArray();
        foreach (var input in value.Inputs)
        {
            if (input.TokenIds is { } ids) WriteIds(writer, ids);
            else writer.WriteStringValue(input.Text);
        }
        if (value.IsBatch) writer.WriteEndArray();
    }

    private static void WriteIds(Utf8JsonWriter writer, IReadOnlyList<int> ids)
    {
        writer.WriteStartArray();
        foreach (var id in ids) writer.WriteNumberValue(id);
        writer.WriteEndArray();
    }
}
