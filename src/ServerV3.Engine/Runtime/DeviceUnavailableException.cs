namespace ServerV3.Engine.Runtime;

/// <summary>The accelerators asked for (--device, --expert-parallel) are not on this machine.</summary>
public sealed class DeviceUnavailableException(string message) : Exception(message);
