using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization.Metadata;

namespace ServerV3.Protocol.Tests;

/// <summary>Compares JSON as trees: property names, values and explicit nulls must match; order does not.</summary>
internal static class JsonAssert
{
    public static void Equal(string expected, string actual)
    {
        var expectedNode = JsonNode.Parse(expected);
        var actualNode = JsonNode.Parse(actual);
        Assert.True(JsonNode.DeepEquals(expectedNode, actualNode), $"Expected:\n{expectedNode?.ToJsonString()}\nActual:\n{actualNode?.ToJsonString()}");
    }

    /// <summary>
    /// Reads a sample of OpenAI's output, writes it again and checks that the result is the sample
    /// less <paramref name="notSent"/>: properties (by name, anywhere) that this server does not send.
    /// </summary>
    public static T RoundTrip<T>(string sample, JsonTypeInfo<T> typeInfo, params string[] notSent)
    {
        var value = JsonSerializer.Deserialize(sample, typeInfo)!;
        var expected = JsonNode.Parse(sample)!;
        Remove(expected, notSent);
        Equal(expected.ToJsonString(), JsonSerializer.Serialize(value, typeInfo));
        return value;
    }

    private static void Remove(JsonNode? node, string[] names)
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var name in names) obj.Remove(name);
                foreach (var (_, child) in obj) Remove(child, names);
                break;
            case JsonArray array:
                foreach (var child in array) Remove(child, names);
                break;
        }
    }
}
