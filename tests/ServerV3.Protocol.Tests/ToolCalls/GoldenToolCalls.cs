using System.Text.Json;
using ServerV3.Tests;

namespace ServerV3.Protocol.Tests.ToolCalls;

/// <summary>
/// Assistant tool-call turns of tests/golden/tokenizer/chat_template.json: the text the DeepSeek-V3
/// template rendered for each (what the model is trained to generate after "&lt;｜Assistant｜&gt;")
/// and the calls the message held.
/// </summary>
internal static class GoldenToolCalls
{
    private const string Assistant = "<｜Assistant｜>";
    private const string CallsBegin = "<｜tool▁calls▁begin｜>";
    private const string OutputsBegin = "<｜tool▁outputs▁begin｜>";
    private const string EndOfSentence = "<｜end▁of▁sentence｜>";

    public static IReadOnlyList<(string Output, IReadOnlyList<(string Name, string Arguments)> Calls)> Turns { get; } = Load();

    public static TheoryData<int> Indexes() => [.. Enumerable.Range(0, Turns.Count)];

    private static List<(string, IReadOnlyList<(string, string)>)> Load()
    {
        using var document = JsonDocument.Parse(File.ReadAllBytes(RepositoryPaths.Golden("tokenizer", "chat_template.json")));
        var turns = new List<(string, IReadOnlyList<(string, string)>)>();
        foreach (var testCase in document.RootElement.GetProperty("cases").EnumerateArray())
        {
            var rendered = testCase.GetProperty("rendered").GetString()!;
            var position = 0;
            foreach (var message in testCase.GetProperty("messages").EnumerateArray())
            {
                if (!message.TryGetProperty("tool_calls", out var toolCalls)) continue;
                var start = rendered.IndexOf(Assistant + CallsBegin, position, StringComparison.Ordinal) + Assistant.Length;
                var end = rendered.IndexOf(OutputsBegin, start, StringComparison.Ordinal);
                position = end;
                // The detokenizer skips special tokens such as end-of-sentence; the tool tokens are not special.
                var output = rendered[start..end].Replace(EndOfSentence, "", StringComparison.Ordinal);
                var calls = toolCalls.EnumerateArray()
                    .Select(call => call.GetProperty("function"))
                    .Select(function => (function.GetProperty("name").GetString()!, function.GetProperty("arguments").GetString()!))
                    .ToList();
                turns.Add((output, calls));
            }
        }
        return turns;
    }
}
