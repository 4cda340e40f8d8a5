using System.Text.Json.Serialization.Metadata;
using ServerV3.Protocol;
using ServerV3.Server.Hosting;

namespace ServerV3.Server.Endpoints;

/// <summary>The common start of every POST endpoint: the model must be ready, the body readable, parsable and valid.</summary>
public static class ApiRequest
{
    /// <summary>The served model and the validated request, or null after writing the error response.</summary>
    public static async Task<(ServedModel Served, TRequest Request)?> ReadAsync<TParsed, TRequest>(
        HttpContext context, ModelService modelService, JsonTypeInfo<TParsed> typeInfo, Func<TParsed, ServerLimits, ProtocolResult<TRequest>> validate)
        where TParsed : class
        where TRequest : notnull
    {
        if (modelService.Served is not { } served)
        {
            await HttpIo.WriteErrorAsync(context, ApiError.ServiceUnavailable("the model is still loading"));
            return null;
        }
        var body = await HttpIo.ReadBodyAsync(context);
        if (!body.TryGetValue(out var bytes, out var error)
            || !RequestParser.Parse(bytes, typeInfo).TryGetValue(out var parsed, out error)
            || !validate(parsed, served.Limits).TryGetValue(out var request, out error))
        {
            await HttpIo.WriteErrorAsync(context, error);
            return null;
        }
        return (served, request);
    }
}
