namespace ServerV3.Tokenization.Tests;

[Collection(DeepSeekTokenizerCollection.Name)]
public sealed class HfTokenizerTests(DeepSeekTokenizerFixture fixture)
{
    private readonly HfTokenizer _tokenizer = fixture.Tokenizer;

    [Fact]
    public void Special_tokens_come_from_tokenizer_config()
    {
        Assert.Equal("<｜begin▁of▁sentence｜>", _tokenizer.BosToken);
        Assert.Equal("<｜end▁of▁sentence｜>", _tokenizer.EosToken);
        Assert.Equal(0, _tokenizer.BosTokenId);
        Assert.Equal(1, _tokenizer.EosTokenId);
        Assert.Equal(131072, _tokenizer.ModelMaxLength);
        Assert.StartsWith("{% if not add_generation_prompt is defined %}", _tokenizer.ChatTemplate, StringComparison.Ordinal);
    }

    [Fact]
    public void Vocabulary_covers_model_and_added_tokens()
    {
        Assert.Equal(128815, _tokenizer.VocabSize);
        Assert.Equal(128803, _tokenizer.TokenToId("<｜User｜>"));
        Assert.Equal("<｜Assistant｜>", _tokenizer.IdToToken(128804));
        Assert.Equal(270, _tokenizer.TokenToId("Ġthe"));
        Assert.Null(_tokenizer.TokenToId("no such token"));
        Assert.Null(_tokenizer.IdToToken(_tokenizer.VocabSize));
        Assert.Null(_tokenizer.IdToToken(-1));
    }

    [Fact]
    public void Only_added_tokens_flagged_special_are_special()
    {
        Assert.True(_tokenizer.IsSpecialToken(0));
        Assert.True(_tokenizer.IsSpecialToken(1));
        Assert.False(_tokenizer.IsSpecialToken(128803));
        Assert.False(_tokenizer.IsSpecialToken(270));
        Assert.Contains(_tokenizer.AddedTokens, t => t is { Id: 128814, Content: "<｜tool▁sep｜>", IsSpecial: false });
    }

    [Fact]
    public void Special_tokens_option_prepends_bos_only()
    {
        var plain = _tokenizer.Encode("Hello world", addSpecialTokens: false);
        var withSpecial = _tokenizer.Encode("Hello world", addSpecialTokens: true);

        Assert.Equal([0, .. plain], withSpecial);
    }

    [Fact]
    public void Added_tokens_in_text_are_matched_before_bpe()
    {
        var ids = _tokenizer.Encode("<｜User｜>Hi<｜Assistant｜>", addSpecialTokens: false);

        Assert.Equal([128803, _tokenizer.TokenToId("Hi")!.Value, 128804], ids);
    }

    [Fact]
    public void Incomplete_added_token_is_ordinary_text()
    {
        var ids = _tokenizer.Encode("<｜User", addSpecialTokens: false);

        Assert.DoesNotContain(128803, ids);
        Assert.Equal("<｜User", _tokenizer.Decode(ids, skipSpecialTokens: false));
    }

    [Fact]
    public void Decode_skips_special_tokens_when_asked_but_keeps_other_added_tokens()
    {
        var ids = _tokenizer.Encode("<｜begin▁of▁sentence｜><｜User｜>Hi<｜end▁of▁sentence｜>", addSpecialTokens: false);

        Assert.Equal([0, 128803, _tokenizer.TokenToId("Hi")!.Value, 1], ids);
        Assert.Equal("<｜User｜>Hi", _tokenizer.Decode(ids, skipSpecialTokens: true));
    }

    [Fact]
    public void Decode_ignores_ids_without_a_token()
    {
        // A model's embedding table (129280 rows) is larger than the tokenizer.
        Assert.Equal("Hi", _tokenizer.Decode([_tokenizer.TokenToId("Hi")!.Value, 129000], skipSpecialTokens: false));
    }

    [Theory]
    [InlineData("")]
    [InlineData(" ")]
    [InlineData("a🤖b 👩‍👩‍👧 𝟙𝟚𝟛 𠀀 \U0001F3FB")]
    [InlineData("line\r\nnext\ttab  \u00a0nbsp")]
    [InlineData("1234567 Ⅻ ½ ١٢٣")]
    public void Encode_then_decode_round_trips(string text)
    {
        var ids = _tokenizer.Encode(text, addSpecialTokens: false);

        Assert.Equal(text, _tokenizer.Decode(ids, skipSpecialTokens: false));
    }

    [Fact]
    public void Concurrent_encoding_gives_the_same_ids()
    {
        var texts = GoldenCases.Encode.Take(64).ToList();

        var results = texts.AsParallel().AsOrdered().Select(c => _tokenizer.Encode(c.Text, addSpecialTokens: false)).ToList();

        Assert.All(texts.Zip(results), pair => Assert.Equal(pair.First.Ids, pair.Second));
    }
}
