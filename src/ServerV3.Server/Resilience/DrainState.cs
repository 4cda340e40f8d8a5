namespace ServerV3.Server.Resilience;

/// <summary>
/// Graceful shutdown: on SIGTERM the server turns not-ready and refuses new requests, lets running streams finish
/// for the drain timeout, then ends the rest cleanly (each gets a final chunk with finish_reason "abort").
/// </summary>
public sealed class DrainState : IDisposable
{
    private readonly CancellationTokenSource deadline = new();
    private volatile bool draining;

    public DrainState(IHostApplicationLifetime lifetime, Microsoft.Extensions.Options.IOptions<Hosting.ServerOptions> options)
    {
        var timeout = TimeSpan.FromSeconds(options.Value.DrainTimeoutSeconds);
        lifetime.ApplicationStopping.Register(() =>
        {
            draining = true;
            deadline.CancelAfter(timeout);
        });
    }

    public bool IsDraining => draining;

    /// <summary>Cancelled when the drain timeout runs out.</summary>
    public CancellationToken Deadline => deadline.Token;

    public void Dispose() => deadline.Dispose();
}
