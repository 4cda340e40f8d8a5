using System.Buffers;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace ServerV3.Protocol;

/// <summary>
/// Frames stream events as OpenAI sends them: <c>data: {json}\n\n</c> per event and
/// <c>data: [DONE]\n\n</c> at the end, also after an error event.
/// </summary>
public static class ServerSentEvents
{
    private static readonly byte[] DoneEvent = "data: [DONE]\n\n"u8.ToArray();

    public static ReadOnlyMemory<byte> Done => DoneEvent;

    public static byte[] Format(ChatCompletionChunk chunk) => Format(chunk, ProtocolJsonContext.Relaxed.ChatCompletionChunk);

    public static byte[] Format(Completion chunk) => Format(chunk, ProtocolJsonContext.Relaxed.Completion);

    /// <summary>An error after the stream has started (the status code is already sent).</summary>
    public static byte[] Format(ApiError error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return Format(error.ToResponse(), ProtocolJsonContext.Relaxed.ErrorResponse);
    }

    private static byte[] Format<T>(T payload, JsonTypeInfo<T> typeInfo)
    {
        ArgumentNullException.ThrowIfNull(payload);
        var buffer = new ArrayBufferWriter<byte>();
        buffer.Write("data: "u8);
        // A writer made here does not inherit the serializer's encoder: pass it on.
        using (var writer = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = typeInfo.Options.Encoder }))
            JsonSerializer.Serialize(writer, payload, typeInfo);
        buffer.Write("\n\n"u8);
        return buffer.WrittenSpan.ToArray();
    }
}
