using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerV3.Server.Hosting;

namespace ServerV3.Server.Tests.Http;

/// <summary>The real server (Kestrel on a loopback port) serving the built-in demo model, shared by a test collection.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private WebApplication? app;

    public Uri BaseAddress { get; private set; } = null!;

    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromMinutes(2) };

    public ModelService Model => app!.Services.GetRequiredService<ModelService>();

    public async Task InitializeAsync()
    {
        app = ServerHost.Build(
            new Dictionary<string, string?>
            {
                ["Host"] = "127.0.0.1",
                ["Port"] = "0",
                ["Device"] = "Cpu",
                ["KvCacheMemory"] = "64MiB",
                ["BlockSize"] = "16",
                ["MaxRequestBodyBytes"] = (1 << 20).ToString(System.Globalization.CultureInfo.InvariantCulture),
            },
            logging => logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync();
        BaseAddress = ServerHost.BoundAddress(app);
        Http.BaseAddress = BaseAddress;
        await Model.WhenLoaded;
    }

    public async Task DisposeAsync()
    {
        Http.Dispose();
        if (app is not null)
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
