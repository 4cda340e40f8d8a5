using System.Text.Json.Nodes;

namespace ServerV3.Tokenization.Tests;

/// <summary>The vectors of tests/golden/tokenizer.</summary>
internal static class GoldenCases
{
    private static readonly JsonObject EncodeFile = TestData.ReadGolden("encode.json");
    private static readonly JsonObject ChatFile = TestData.ReadGolden("chat_template.json");

    public static bool EncodeAddsSpecialTokens => EncodeFile["add_special_tokens"]!.GetValue<bool>();

    public static IReadOnlyList<EncodeCase> Encode { get; } = EncodeFile["cases"]!.AsArray()
        .Select(c => new EncodeCase(c!["text"]!.GetValue<string>(), Ids(c["ids"]!)))
        .ToList();

    public static IReadOnlyList<ChatCase> Chat { get; } = ChatFile["cases"]!.AsArray()
        .Select(c => new ChatCase(
            c!["messages"]!.AsArray(),
            c["add_generation_prompt"]!.GetValue<bool>(),
            c["rendered"]!.GetValue<string>(),
            Ids(c["ids"]!)))
        .ToList();

    public static TheoryData<int> EncodeIndices() => new(Enumerable.Range(0, Encode.Count));

    public static TheoryData<int> ChatIndices() => new(Enumerable.Range(0, Chat.Count));

    private static int[] Ids(JsonNode ids) => ids.AsArray().Select(id => id!.GetValue<int>()).ToArray();

    internal sealed record EncodeCase(string Text, int[] Ids);

    internal sealed record ChatCase(JsonArray Messages, bool AddGenerationPrompt, string Rendered, int[] Ids);
}
