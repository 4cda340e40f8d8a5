using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using ServerV3.Protocol;
using ServerV3.Server.Endpoints;
using ServerV3.Server.Resilience;
using ServerV3.Server.Telemetry;

namespace ServerV3.Server.Hosting;

/// <summary>Builds the ASP.NET Core application: configuration, Kestrel, telemetry, resilience, the model service and the endpoints.</summary>
public static class ServerHost
{
    /// <param name="overrides">Configuration keys given on the command line (they win over appsettings.json and SERVERV3_*).</param>
    public static WebApplication Build(IReadOnlyDictionary<string, string?> overrides, Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables("SERVERV3_")
            .AddInMemoryCollection(overrides);
        // SERVERV3_API_KEY is the documented spelling of the ApiKey setting.
        if (builder.Configuration["API_KEY"] is { Length: > 0 } key && !overrides.ContainsKey(nameof(ServerOptions.ApiKey)))
            builder.Configuration[nameof(ServerOptions.ApiKey)] = key;
        var options = builder.Configuration.Get<ServerOptions>() ?? new ServerOptions();
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        builder.WebHost.UseUrls($"http://{(options.Host == "0.0.0.0" ? "*" : options.Host)}:{options.Port}");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        // Kestrel waits this long for requests at shutdown; the drain deadline ends streams a little before.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = TimeSpan.FromSeconds(options.DrainTimeoutSeconds + 10));
        if (logging is not null) logging(builder.Logging);
        builder.Services.AddSingleton<ModelService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ModelService>());
        builder.Services.AddSingleton<CircuitState>();
        builder.Services.AddSingleton<DrainState>();
        builder.Services.AddSingleton<ServerMetrics>();
        builder.Services.AddSingleton<GenerationGate>();
        AddTelemetry(builder);
        var app = builder.Build();
        if (options.ApiKey.Length > 0) app.Use(RequireApiKey(options));
        app.MapHealthEndpoints();
        app.MapOpenAiEndpoints();
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary>
    /// Metrics for Prometheus at /metrics (ServerV3's, ASP.NET Core's, the runtime's and the process's) and traces
    /// (one span per request joined to ASP.NET Core's); OTLP export switches on with the standard OTEL_* variables.
    /// </summary>
    private static void AddTelemetry(WebApplicationBuilder builder)
    {
        var telemetry = builder.Services.AddOpenTelemetry()
            .WithMetrics(metrics => metrics
                .AddMeter(ServerMetrics.MeterName)
                .AddAspNetCoreInstrumentation()
                .AddRuntimeInstrumentation()
                .AddProcessInstrumentation()
                .AddPrometheusExporter())
            .WithTracing(tracing => tracing
                .AddSource(GenerationGate.Traces.Name)
                .AddAspNetCoreInstrumentation());
        if (!string.IsNullOrEmpty(builder.Configuration["OTEL_EXPORTER_OTLP_ENDPOINT"] ?? Environment.GetEnvironmentVariable("OTEL_EXPORTER_OTLP_ENDPOINT")))
            telemetry.UseOtlpExporter();
    }

    /// <summary>Bearer API keys on everything but /health and /ready (and /metrics unless AuthenticateMetrics).</summary>
    private static Func<HttpContext, RequestDelegate, Task> RequireApiKey(ServerOptions options) => (context, next) =>
    {
        var path = context.Request.Path;
        bool open = path.StartsWithSegments("/health") || path.StartsWithSegments("/ready")
            || (!options.AuthenticateMetrics && path.StartsWithSegments("/metrics"));
        string? header = context.Request.Headers.Authorization;
        if (open || header == $"Bearer {options.ApiKey}") return next(context);
        return HttpIo.WriteErrorAsync(context, ApiError.Unauthorized(header is null ? "Missing API key: send Authorization: Bearer <key>." : "Incorrect API key provided."));
    };

    /// <summary>The address Kestrel bound (useful with port 0), with a wildcard host replaced by loopback.</summary>
    public static Uri BoundAddress(WebApplication app)
    {
        var addresses = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()
            ?? throw new InvalidOperationException("the server has no addresses feature");
        var address = new UriBuilder(addresses.Addresses.First());
        if (address.Host is "[::]" or "0.0.0.0" or "*" or "+") address.Host = "127.0.0.1";
        return address.Uri;
    }
}
