using System.Text.Json;

namespace ServerV3.Protocol;

/// <summary>
/// An HTTP error for the client: the status code and OpenAI's error body. Build one with the
/// factories; <see cref="ToJsonBytes"/> gives the body to write.
/// </summary>
public sealed record ApiError(int StatusCode, ErrorInfo Error)
{
    public const string InvalidRequestType = "invalid_request_error";

    /// <summary>OpenAI's type for request-rate limits.</summary>
    public const string RateLimitType = "requests";

    public const string ServerErrorType = "server_error";

    public ErrorResponse ToResponse() => new(Error);

    public byte[] ToJsonBytes() => JsonSerializer.SerializeToUtf8Bytes(ToResponse(), ProtocolJsonContext.Relaxed.ErrorResponse);

    /// <summary>400: the request is malformed or a parameter is invalid.</summary>
    public static ApiError BadRequest(string message, string? param = null, string? code = null) =>
        new(400, new ErrorInfo(message, InvalidRequestType, param, code));

    /// <summary>401: missing or wrong API key.</summary>
    public static ApiError Unauthorized(string message = "Incorrect API key provided.") =>
        new(401, new ErrorInfo(message, InvalidRequestType, null, "invalid_api_key"));

    /// <summary>404 for a model that is not served, as OpenAI and vLLM answer it.</summary>
    public static ApiError ModelNotFound(string model) =>
        new(404, new ErrorInfo($"The model `{model}` does not exist.", InvalidRequestType, "model", "model_not_found"));

    /// <summary>404 for anything else that does not exist (e.g. an unknown route).</summary>
    public static ApiError NotFound(string message) =>
        new(404, new ErrorInfo(message, InvalidRequestType, null, null));

    /// <summary>413: the request body is larger than the server accepts.</summary>
    public static ApiError PayloadTooLarge(long maxBytes) =>
        new(413, new ErrorInfo($"The request body exceeds the limit of {maxBytes} bytes.", InvalidRequestType, null, "request_too_large"));

    /// <summary>429: the server's queue is full; clients retry with backoff.</summary>
    public static ApiError TooManyRequests(string message) =>
        new(429, new ErrorInfo(message, RateLimitType, null, "rate_limit_exceeded"));

    /// <summary>500: an unexpected failure while serving the request.</summary>
    public static ApiError InternalError(string message) =>
        new(500, new ErrorInfo(message, ServerErrorType, null, null));

    /// <summary>503: the server is loading, draining or overloaded.</summary>
    public static ApiError ServiceUnavailable(string message) =>
        new(503, new ErrorInfo(message, ServerErrorType, null, null));
}
