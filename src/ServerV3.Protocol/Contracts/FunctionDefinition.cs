using System.Text.Json;

namespace ServerV3.Protocol;

/// <summary>A callable function: name, description and the JSON schema of its parameters.</summary>
public sealed record FunctionDefinition
{
    public string? Name { get; init; }

    public string? Description { get; init; }

    /// <summary>JSON schema, kept as sent.</summary>
    public JsonElement? Parameters { get; init; }

    public bool? Strict { get; init; }
}
