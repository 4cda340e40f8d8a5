using System.Text.Json.Nodes;

namespace ServerV3.Tokenization.Tests;

/// <summary>Test files copied next to the test assembly (see the .csproj).</summary>
internal static class TestData
{
    public static string GoldenTokenizerDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "golden", "tokenizer");

    /// <summary>The demo model's tokenizer (the same files as models/kjv-tiny-v3).</summary>
    public static string KjvTinyDirectory { get; } = Path.Combine(AppContext.BaseDirectory, "Data", "kjv-tiny-v3");

    public static JsonObject ReadGolden(string fileName) =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(GoldenTokenizerDirectory, fileName)))!.AsObject();
}
