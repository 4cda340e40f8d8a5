using System.Text;

namespace ServerV3.Protocol.Tests.Validation;

/// <summary>Parses and validates request bodies against fixed server limits.</summary>
internal static class Requests
{
    public static readonly ServerLimits Limits = new()
    {
        ServedModelNames = ["deepseek-v3", "dsv3-alias"],
        MaxModelLength = 4096,
        MaxN = 4,
        MaxTokens = 2048,
        VocabularySize = 129280,
    };

    private static readonly ProtocolJsonContext Json = ProtocolJsonContext.Default;

    /// <summary>A valid chat body with <paramref name="fields"/> added (JSON members, no braces).</summary>
    public static string Chat(string fields = "") =>
        """{"model":"deepseek-v3","messages":[{"role":"user","content":"hi"}]""" + (fields.Length > 0 ? "," + fields : "") + "}";

    public static ProtocolResult<NormalizedChatRequest> ValidateChat(string body) =>
        Validate(Encoding.UTF8.GetBytes(body), Json.ChatCompletionRequest, RequestValidator.ValidateChatCompletion);

    public static ProtocolResult<NormalizedCompletionRequest> ValidateCompletion(string body) =>
        Validate(Encoding.UTF8.GetBytes(body), Json.CompletionRequest, RequestValidator.ValidateCompletion);

    public static ProtocolResult<NormalizedTokenizeRequest> ValidateTokenize(string body) =>
        Validate(Encoding.UTF8.GetBytes(body), Json.TokenizeRequest, RequestValidator.ValidateTokenize);

    public static ProtocolResult<NormalizedDetokenizeRequest> ValidateDetokenize(string body) =>
        Validate(Encoding.UTF8.GetBytes(body), Json.DetokenizeRequest, RequestValidator.ValidateDetokenize);

    public static T Valid<T>(ProtocolResult<T> result)
        where T : notnull
    {
        Assert.True(result.TryGetValue(out var value, out var error), error?.Error.Message);
        return value;
    }

    public static void AssertError<T>(ProtocolResult<T> result, int status, string? param, string? code, string messagePart)
        where T : notnull
    {
        Assert.False(result.TryGetValue(out _, out var error), "expected an error");
        Assert.Equal(status, error.StatusCode);
        Assert.Equal(ApiError.InvalidRequestType, error.Error.Type);
        Assert.Equal(param, error.Error.Param);
        Assert.Equal(code, error.Error.Code);
        Assert.Contains(messagePart, error.Error.Message, StringComparison.Ordinal);
    }

    private static ProtocolResult<TOut> Validate<TIn, TOut>(
        byte[] body, System.Text.Json.Serialization.Metadata.JsonTypeInfo<TIn> typeInfo, Func<TIn, ServerLimits, ProtocolResult<TOut>> validate)
        where TIn : class
        where TOut : notnull =>
        RequestParser.Parse(body, typeInfo).TryGetValue(out var request, out var error)
            ? validate(request, Limits)
            : ProtocolResult<TOut>.Failure(error);
}
