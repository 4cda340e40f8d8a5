using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using System.Text.Unicode;

namespace ServerV3.Protocol;

/// <summary>
/// Parses a request body into a contract. Never throws for bad input: invalid UTF-8, malformed
/// JSON, a body that is not an object and values of the wrong JSON type all become 400 errors,
/// the last naming the parameter as OpenAI does ("Invalid type for 'messages[0].content': …").
/// </summary>
public static class RequestParser
{
    /// <example><c>RequestParser.Parse(body, ProtocolJsonContext.Default.ChatCompletionRequest)</c></example>
    public static ProtocolResult<T> Parse<T>(ReadOnlySpan<byte> body, JsonTypeInfo<T> typeInfo)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(typeInfo);
        if (!Utf8.IsValid(body))
            return ProtocolResult<T>.Failure(ApiError.BadRequest("The request body is not valid UTF-8.", code: "invalid_json"));
        try
        {
            return JsonSerializer.Deserialize(body, typeInfo) is { } request
                ? ProtocolResult<T>.Success(request)
                : ProtocolResult<T>.Failure(NotAnObject());
        }
        catch (JsonException exception)
        {
            return ProtocolResult<T>.Failure(Describe(body, typeInfo, exception));
        }
    }

    private static ApiError NotAnObject() =>
        ApiError.BadRequest("The request body must be a JSON object.", code: "invalid_json");

    private static ApiError Describe(ReadOnlySpan<byte> body, JsonTypeInfo root, JsonException exception)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException syntaxError)
        {
            return ApiError.BadRequest($"We could not parse the JSON body of your request: {syntaxError.Message}", code: "invalid_json");
        }

        using (document)
        {
            var shape = exception as JsonShapeException;
            var path = JsonPath.Parse((exception.Path ?? "$") + shape?.RelativePath);
            if (path.IsRoot) return NotAnObject();
            var param = path.ToParam();
            var expected = shape?.Expected ?? Describe(path.FindTypeInfo(root));
            var got = path.Find(document.RootElement) is { } value ? Describe(value) : null;
            if (got != expected) return ParameterErrors.InvalidType(param, expected, got);
            // The right JSON type that still cannot be read: an unpaired surrogate escape, or a number out of range.
            return ParameterErrors.InvalidValue(
                param,
                $"Invalid value for '{param}': {(got == "a string" ? "the string is not valid Unicode" : "the number is out of range")}.");
        }
    }

    private static string Describe(JsonTypeInfo? typeInfo)
    {
        if (typeInfo is null) return "a valid value";
        var type = Nullable.GetUnderlyingType(typeInfo.Type) ?? typeInfo.Type;
        if (type == typeof(string)) return "a string";
        if (type == typeof(bool)) return "a boolean";
        if (type == typeof(int) || type == typeof(long)) return "an integer";
        if (type == typeof(double)) return "a number";
        return typeInfo.Kind switch
        {
            JsonTypeInfoKind.Enumerable => "an array",
            JsonTypeInfoKind.Object or JsonTypeInfoKind.Dictionary => "an object",
            _ => "a valid value",
        };
    }

    private static string Describe(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number when value.GetRawText().AsSpan().IndexOfAny(".eE") < 0 => "an integer",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}
