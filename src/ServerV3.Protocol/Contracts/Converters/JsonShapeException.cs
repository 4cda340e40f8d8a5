using System.Text.Json;

namespace ServerV3.Protocol;

/// <summary>
/// Thrown by the converters of union-typed fields when a value has the wrong JSON type.
/// <see cref="RelativePath"/> locates the value inside the field (e.g. "[2]"), since the
/// serializer's path stops at the field; <see cref="Expected"/> reads "a string", "an object", ….
/// </summary>
internal sealed class JsonShapeException(string expected, string relativePath)
    : JsonException($"Expected {expected}.")
{
    public string Expected { get; } = expected;

    public string RelativePath { get; } = relativePath;
}
