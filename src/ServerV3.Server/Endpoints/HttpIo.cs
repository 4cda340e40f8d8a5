using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http.Features;
using ServerV3.Protocol;

namespace ServerV3.Server.Endpoints;

/// <summary>Reading request bodies and writing JSON, errors and server-sent events.</summary>
public static class HttpIo
{
    /// <summary>The whole body, or a 413 when it exceeds Kestrel's limit.</summary>
    public static async Task<ProtocolResult<byte[]>> ReadBodyAsync(HttpContext context)
    {
        try
        {
            using var buffer = new MemoryStream();
            await context.Request.Body.CopyToAsync(buffer, context.RequestAborted);
            return ProtocolResult<byte[]>.Success(buffer.ToArray());
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            long limit = context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize ?? 0;
            return ProtocolResult<byte[]>.Failure(ApiError.PayloadTooLarge(limit));
        }
    }

    public static Task WriteErrorAsync(HttpContext context, ApiError error)
    {
        context.Response.StatusCode = error.StatusCode;
        context.Response.ContentType = "application/json";
        return context.Response.Body.WriteAsync(error.ToJsonBytes(), context.RequestAborted).AsTask();
    }

    public static Task WriteJsonAsync<T>(HttpContext context, T value, JsonTypeInfo<T> typeInfo)
    {
        context.Response.ContentType = "application/json";
        return context.Response.WriteAsJsonAsync(value, typeInfo, "application/json", context.RequestAborted);
    }

    /// <summary>Starts a text/event-stream response; events are flushed as they are written.</summary>
    public static async Task StartEventStreamAsync(HttpContext context)
    {
        context.Response.ContentType = "text/event-stream";
        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers["X-Accel-Buffering"] = "no";
        await context.Response.StartAsync(context.RequestAborted);
    }

    public static async Task WriteEventAsync(HttpContext context, ReadOnlyMemory<byte> sseEvent)
    {
        await context.Response.Body.WriteAsync(sseEvent, context.RequestAborted);
        await context.Response.Body.FlushAsync(context.RequestAborted);
    }
}
