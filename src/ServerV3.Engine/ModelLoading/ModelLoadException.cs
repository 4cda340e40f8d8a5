namespace ServerV3.Engine.ModelLoading;

/// <summary>A checkpoint file is missing, truncated, corrupt or lacks a tensor; the message names the file and tensor.</summary>
public sealed class ModelLoadException(string message, Exception? inner = null) : Exception(message, inner);
