namespace ServerV3.Engine.Config;

/// <summary>A config.json key is missing, malformed or names something the engine does not support.</summary>
public sealed class ModelConfigException(string message) : Exception(message);
