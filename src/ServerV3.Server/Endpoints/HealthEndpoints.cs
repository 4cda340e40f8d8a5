using ServerV3.Server.Hosting;

namespace ServerV3.Server.Endpoints;

/// <summary>GET /health (the process is alive) and GET /ready (the model is loaded and the engine runs).</summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health", () => TypedResults.Ok());
        routes.MapGet("/ready", (ModelService model) => model.IsReady ? Results.Ok() : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        return routes;
    }
}
