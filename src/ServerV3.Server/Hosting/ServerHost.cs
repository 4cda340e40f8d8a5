using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using ServerV3.Server.Endpoints;

namespace ServerV3.Server.Hosting;

/// <summary>Builds the ASP.NET Core application: configuration, Kestrel, the model service and the endpoints.</summary>
public static class ServerHost
{
    /// <param name="overrides">Configuration keys given on the command line (they win over appsettings.json and SERVERV3_*).</param>
    public static WebApplication Build(IReadOnlyDictionary<string, string?> overrides, Action<ILoggingBuilder>? logging = null)
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Configuration.AddJsonFile("appsettings.json", optional: true)
            .AddEnvironmentVariables("SERVERV3_")
            .AddInMemoryCollection(overrides);
        var options = builder.Configuration.Get<ServerOptions>() ?? new ServerOptions();
        builder.Services.AddSingleton(Microsoft.Extensions.Options.Options.Create(options));
        builder.WebHost.UseUrls($"http://{(options.Host == "0.0.0.0" ? "*" : options.Host)}:{options.Port}");
        builder.WebHost.ConfigureKestrel(kestrel => kestrel.Limits.MaxRequestBodySize = options.MaxRequestBodyBytes);
        if (logging is not null) logging(builder.Logging);
        builder.Services.AddSingleton<ModelService>();
        builder.Services.AddHostedService(services => services.GetRequiredService<ModelService>());
        var app = builder.Build();
        app.MapHealthEndpoints();
        app.MapOpenAiEndpoints();
        return app;
    }

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
