using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>
/// Source-generated (reflection-free) JSON metadata for every contract: snake_case names, nulls
/// left out unless a property is marked to always be written (where OpenAI sends null). Write
/// responses with <see cref="Relaxed"/>; <c>Default</c> reads the same but escapes more on output.
/// </summary>
[JsonSourceGenerationOptions(
    PropertyNamingPolicy = JsonKnownNamingPolicy.SnakeCaseLower,
    DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(ChatCompletionRequest))]
[JsonSerializable(typeof(CompletionRequest))]
[JsonSerializable(typeof(TokenizeRequest))]
[JsonSerializable(typeof(DetokenizeRequest))]
[JsonSerializable(typeof(ChatCompletion))]
[JsonSerializable(typeof(ChatCompletionChunk))]
[JsonSerializable(typeof(Completion))]
[JsonSerializable(typeof(ModelList))]
[JsonSerializable(typeof(ModelCard))]
[JsonSerializable(typeof(TokenizeResponse))]
[JsonSerializable(typeof(DetokenizeResponse))]
[JsonSerializable(typeof(ErrorResponse))]
public sealed partial class ProtocolJsonContext : JsonSerializerContext
{
    /// <summary>
    /// The generated options with minimal escaping: non-ASCII text and quotes are written as UTF-8, as
    /// OpenAI and vLLM write them (the default encoder would send "\u4F60" for "你" and "\u0027" for
    /// "'"). Safe for JSON bodies and SSE; not for embedding in HTML.
    /// </summary>
    /// <remarks>Created on first use: static initializers of partial declarations run in no set order, and this one needs <c>Default</c>.</remarks>
    public static ProtocolJsonContext Relaxed =>
        field ??= new(new JsonSerializerOptions(Default.Options) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
}
