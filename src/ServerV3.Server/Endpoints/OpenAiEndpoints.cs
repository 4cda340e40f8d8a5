using ServerV3.Protocol;
using ServerV3.Server.Hosting;

namespace ServerV3.Server.Endpoints;

/// <summary>The OpenAI-compatible routes, plus vLLM's /tokenize and /detokenize.</summary>
public static class OpenAiEndpoints
{
    public static IEndpointRouteBuilder MapOpenAiEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapPost("/v1/chat/completions", ChatCompletionsEndpoint.HandleAsync);
        routes.MapPost("/v1/completions", CompletionsEndpoint.HandleAsync);
        routes.MapGet("/v1/models", (HttpContext context, ModelService model) => HttpIo.WriteJsonAsync(context,
            new ModelList([Card(model)]), ProtocolJsonContext.Relaxed.ModelList));
        routes.MapGet("/v1/models/{id}", (HttpContext context, ModelService model, string id) =>
            id == model.Options.ModelName
                ? HttpIo.WriteJsonAsync(context, Card(model), ProtocolJsonContext.Relaxed.ModelCard)
                : HttpIo.WriteErrorAsync(context, ApiError.ModelNotFound(id)));
        routes.MapPost("/tokenize", TokenizerEndpoints.TokenizeAsync);
        routes.MapPost("/detokenize", TokenizerEndpoints.DetokenizeAsync);
        return routes;
    }

    private static ModelCard Card(ModelService model) => new()
    {
        Id = model.Options.ModelName,
        Created = model.StartedAt.ToUnixTimeSeconds(),
        OwnedBy = "serverv3",
        MaxModelLen = model.Served?.Limits.MaxModelLength,
    };
}
