using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>The inner object of an <see cref="ErrorResponse"/>; param and code are sent even when null.</summary>
public sealed record ErrorInfo(
    string Message,
    string Type,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Param,
    [property: JsonIgnore(Condition = JsonIgnoreCondition.Never)] string? Code);
