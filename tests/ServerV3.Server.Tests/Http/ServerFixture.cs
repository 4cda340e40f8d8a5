using ServerV3.Server.Hosting;

namespace ServerV3.Server.Tests.Http;

/// <summary>One <see cref="TestServer"/> with default settings, shared by a test collection.</summary>
public sealed class ServerFixture : IAsyncLifetime
{
    private TestServer? server;

    public Uri BaseAddress => server!.BaseAddress;
    public HttpClient Http => server!.Http;
    public ModelService Model => server!.Model;

    public async Task InitializeAsync() => server = await TestServer.StartAsync();

    public async Task DisposeAsync()
    {
        if (server is not null) await server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class ServerCollection : ICollectionFixture<ServerFixture>
{
    public const string Name = "server";
}
