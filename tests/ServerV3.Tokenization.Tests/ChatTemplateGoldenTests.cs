using System.Text.Json.Nodes;
using ServerV3.Tokenization.Jinja;

namespace ServerV3.Tokenization.Tests;

[Collection(DeepSeekTokenizerCollection.Name)]
public sealed class ChatTemplateGoldenTests(DeepSeekTokenizerFixture fixture)
{
    private readonly HfTokenizer _tokenizer = fixture.Tokenizer;

    [Theory]
    [MemberData(nameof(GoldenCases.ChatIndices), MemberType = typeof(GoldenCases))]
    public void Template_renders_golden_messages_exactly(int index)
    {
        var golden = GoldenCases.Chat[index];
        var template = JinjaTemplate.Parse(_tokenizer.ChatTemplate!);

        var rendered = template.Render(new Dictionary<string, object?>
        {
            ["messages"] = golden.Messages,
            ["add_generation_prompt"] = golden.AddGenerationPrompt,
            ["bos_token"] = _tokenizer.BosToken,
            ["eos_token"] = _tokenizer.EosToken,
        });

        Assert.Equal(golden.Rendered, rendered);
    }

    [Theory]
    [MemberData(nameof(GoldenCases.ChatIndices), MemberType = typeof(GoldenCases))]
    public void Prompt_builder_renders_and_encodes_golden_case(int index)
    {
        var golden = GoldenCases.Chat[index];
        var builder = ChatPromptBuilder.FromTokenizer(_tokenizer);

        var prompt = builder.BuildPrompt(golden.Messages.Select(ToChatMessage).ToList(), addGenerationPrompt: golden.AddGenerationPrompt);

        Assert.Equal(golden.Rendered, prompt);
        // As apply_chat_template(tokenize=True): the template wrote BOS itself.
        Assert.Equal(golden.Ids, _tokenizer.Encode(prompt, addSpecialTokens: false));
    }

    private static ChatMessage ToChatMessage(JsonNode? node) =>
        new(node!["role"]!.GetValue<string>(), node["content"]?.GetValue<string>())
        {
            ToolCalls = node["tool_calls"]?.AsArray()
                .Select(call => new ChatToolCall(
                    call!["function"]!["name"]!.GetValue<string>(),
                    call["function"]!["arguments"]!.GetValue<string>()))
                .ToList(),
        };
}
