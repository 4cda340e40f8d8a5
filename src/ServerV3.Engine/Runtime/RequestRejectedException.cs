namespace ServerV3.Engine.Runtime;

/// <summary>A request that the engine can never serve (too long for the context or the cache).</summary>
public sealed class RequestRejectedException(string message) : Exception(message);
