using ServerV3.Server.Hosting;
using ServerV3.Server.Resilience;

namespace ServerV3.Server.Endpoints;

/// <summary>GET /health (the process is alive) and GET /ready (the model is loaded and the engine runs).</summary>
public static class HealthEndpoints
{
    public static IEndpointRouteBuilder MapHealthEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/health", () => TypedResults.Ok());
        // Not ready while loading, draining or with the engine circuit open: the load balancer stops sending traffic.
        routes.MapGet("/ready", (ModelService model, DrainState drain, CircuitState circuit) =>
            model.IsReady && !drain.IsDraining && !circuit.IsOpen ? Results.Ok() : Results.StatusCode(StatusCodes.Status503ServiceUnavailable));
        return routes;
    }
}
