using System.Text.Json.Nodes;

namespace ServerV3.Tokenization.Tests;

public sealed class TokenizerLoadingTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("tokenizer-test-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public void Demo_model_tokenizer_loads_and_round_trips()
    {
        var tokenizer = HfTokenizer.Load(TestData.KjvTinyDirectory);
        const string text = "In the beginning God created the heaven and the earth. 1:1 — «naïve» 世界 🚀";

        var ids = tokenizer.Encode(text, addSpecialTokens: true);

        Assert.Equal(3260, tokenizer.VocabSize);
        Assert.Equal(0, ids[0]);
        Assert.All(ids, id => Assert.InRange(id, 0, tokenizer.VocabSize - 1));
        Assert.Equal(text, tokenizer.Decode(ids, skipSpecialTokens: true));
        Assert.Equal(1024, tokenizer.ModelMaxLength);
    }

    [Fact]
    public void Demo_model_chat_prompt_uses_its_added_tokens()
    {
        var tokenizer = HfTokenizer.Load(TestData.KjvTinyDirectory);
        var builder = ChatPromptBuilder.FromTokenizer(tokenizer);

        var prompt = builder.BuildPrompt([new ChatMessage("system", "Be brief."), new ChatMessage("user", "Who made the earth?")]);
        var ids = tokenizer.Encode(prompt, addSpecialTokens: false);

        Assert.Equal("<｜begin▁of▁sentence｜>Be brief.<｜User｜>Who made the earth?<｜Assistant｜>", prompt);
        Assert.Equal(0, ids[0]);
        Assert.Contains(3258, ids);
        Assert.Equal(3259, ids[^1]);
    }

    [Fact]
    public void Config_accepts_plain_string_tokens_and_named_templates()
    {
        var config = TokenizerConfig.Parse("""
            {
              "bos_token": "<s>", "eos_token": {"content": "</s>"}, "unk_token": null,
              "add_bos_token": false, "model_max_length": 1e30,
              "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]
            }
            """);

        Assert.Equal("<s>", config.BosToken);
        Assert.Equal("</s>", config.EosToken);
        Assert.Null(config.UnkToken);
        Assert.False(config.AddBosToken);
        Assert.Null(config.AddEosToken);
        Assert.Null(config.ModelMaxLength);
        Assert.Equal("D", config.ChatTemplate);
    }

    [Fact]
    public void Post_processor_template_adds_bos_when_config_is_silent()
    {
        var tokenizerJson = KjvTokenizerJson();
        tokenizerJson["post_processor"] = JsonNode.Parse("""
            {"type": "TemplateProcessing", "single": [{"SpecialToken": {"id": "<｜begin▁of▁sentence｜>", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}]}
            """);
        File.WriteAllText(Path.Combine(_directory, "tokenizer.json"), tokenizerJson.ToJsonString());

        var tokenizer = HfTokenizer.Load(_directory);

        Assert.Null(tokenizer.ChatTemplate);
        Assert.Equal(0, tokenizer.Encode("the", addSpecialTokens: true)[0]);
        Assert.Throws<InvalidOperationException>(() => ChatPromptBuilder.FromTokenizer(tokenizer));
    }

    [Theory]
    [InlineData("model", """{"type": "WordPiece", "vocab": {}}""", "model type 'WordPiece'")]
    [InlineData("normalizer", """{"type": "NFKC"}""", "normalizer 'NFKC'")]
    [InlineData("decoder", """{"type": "Metaspace"}""", "decoder other than ByteLevel")]
    [InlineData("pre_tokenizer", """{"type": "Split", "pattern": {"Regex": "a"}, "behavior": "Removed", "invert": false}""", "Split behaviors")]
    [InlineData("pre_tokenizer", """{"type": "Whitespace"}""", "pre-tokenizer 'Whitespace'")]
    [InlineData("pre_tokenizer", """{"type": "Split", "pattern": {"Regex": "a?+"}, "behavior": "Isolated", "invert": false}""", "not valid .NET regex")]
    public void Unsupported_tokenizer_features_are_rejected(string section, string json, string expectedMessage)
    {
        var tokenizerJson = KjvTokenizerJson();
        tokenizerJson[section] = JsonNode.Parse(json);
        File.WriteAllText(Path.Combine(_directory, "tokenizer.json"), tokenizerJson.ToJsonString());

        var error = Assert.Throws<NotSupportedException>(() => HfTokenizer.Load(_directory));

        Assert.Contains(expectedMessage, error.Message, StringComparison.Ordinal);
    }

    private static JsonObject KjvTokenizerJson() =>
        JsonNode.Parse(File.ReadAllText(Path.Combine(TestData.KjvTinyDirectory, "tokenizer.json")))!.AsObject();
}
