namespace ServerV3.Server.Resilience;

/// <summary>Whether the engine circuit breaker is open (published for metrics and readiness).</summary>
public sealed class CircuitState
{
    private volatile bool open;

    public bool IsOpen => open;

    public void Opened() => open = true;

    public void Closed() => open = false;
}
