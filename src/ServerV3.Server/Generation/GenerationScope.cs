using System.Diagnostics;
using ServerV3.Server.Telemetry;

namespace ServerV3.Server.Generation;

/// <summary>
/// What one HTTP request's generations share: its cancellation (client gone, total timeout or drain deadline), the
/// finish reason a server-side stop means, and the metrics and trace the choices report to.
/// </summary>
public sealed class GenerationScope(CancellationTokenSource stop, CancellationToken clientGone, Func<string> serverStopReason, ServerMetrics metrics, Activity? activity)
{
    public long ArrivedAt { get; } = Stopwatch.GetTimestamp();

    /// <summary>Stops the engine requests, for whatever reason.</summary>
    public CancellationToken Token { get; } = stop.Token;

    /// <summary>Stops the generations because nobody can receive them any more (a write to the client failed).</summary>
    public void Abandon() => stop.Cancel();

    /// <summary>Whether the client went away (then nothing more is sent).</summary>
    public bool ClientGone => clientGone.IsCancellationRequested;

    /// <summary>The finish reason when the server stopped the request: "length" on timeout, "abort" on shutdown.</summary>
    public string ServerStopReason => serverStopReason();

    public ServerMetrics Metrics { get; } = metrics;

    public Activity? Activity { get; } = activity;
}
