using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using ServerV3.Server.Hosting;

namespace ServerV3.Server.Tests.Http;

/// <summary>A real server (Kestrel on a loopback port) serving the built-in demo model with test-sized settings.</summary>
public sealed class TestServer : IAsyncDisposable
{
    private TestServer(WebApplication app)
    {
        App = app;
        BaseAddress = ServerHost.BoundAddress(app);
        Http = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromMinutes(2) };
    }

    public WebApplication App { get; }
    public Uri BaseAddress { get; }
    public HttpClient Http { get; }
    public ModelService Model => App.Services.GetRequiredService<ModelService>();

    /// <param name="settings">ServerOptions keys that differ from the test defaults.</param>
    public static async Task<TestServer> StartAsync(IReadOnlyDictionary<string, string>? settings = null)
    {
        var overrides = new Dictionary<string, string?>
        {
            ["Host"] = "127.0.0.1",
            ["Port"] = "0",
            ["Device"] = "Cpu",
            ["KvCacheMemory"] = "64MiB",
            ["BlockSize"] = "16",
            ["MaxRequestBodyBytes"] = (1 << 20).ToString(CultureInfo.InvariantCulture),
        };
        foreach (var (key, value) in settings ?? new Dictionary<string, string>()) overrides[key] = value;
        var app = ServerHost.Build(overrides, logging => logging.SetMinimumLevel(LogLevel.Warning));
        await app.StartAsync();
        var server = new TestServer(app);
        await server.Model.WhenLoaded;
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
