namespace ServerV3.Engine.Runtime;

/// <summary>An engine step failed (an accelerator fault, or an injected one); the requests in that step end with it.</summary>
public sealed class EngineFaultException(string message, Exception? inner = null) : Exception(message, inner);
