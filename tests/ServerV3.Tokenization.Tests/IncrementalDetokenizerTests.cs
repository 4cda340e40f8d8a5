using System.Text;

namespace ServerV3.Tokenization.Tests;

[Collection(DeepSeekTokenizerCollection.Name)]
public sealed class IncrementalDetokenizerTests(DeepSeekTokenizerFixture fixture)
{
    private const char Replacement = '\uFFFD';

    private readonly HfTokenizer _tokenizer = fixture.Tokenizer;

    public static TheoryData<string> MultiByteTexts() => new(
        GoldenCases.Encode.Select(c => c.Text).Where(t => t.Any(c => c > '\u2000')).Take(40));

    [Theory]
    [MemberData(nameof(MultiByteTexts))]
    public void Streaming_multibyte_text_never_emits_a_replacement_character(string text)
    {
        var ids = _tokenizer.Encode(text, addSpecialTokens: false);
        var detokenizer = _tokenizer.CreateIncrementalDetokenizer(skipSpecialTokens: false);
        var streamed = new StringBuilder();

        foreach (var id in ids)
        {
            var chunk = detokenizer.Push(id);
            Assert.DoesNotContain(Replacement, chunk);
            streamed.Append(chunk);
        }
        streamed.Append(detokenizer.Flush());

        Assert.Equal(text, streamed.ToString());
    }

    [Fact]
    public void Golden_cases_split_characters_across_tokens()
    {
        // Guards the test above: a token that ends inside a UTF-8 character must occur.
        var splitsCharacter = GoldenCases.Encode.SelectMany(c => c.Ids)
            .Any(id => !IsCompleteUtf8(_tokenizer.GetTokenBytes(id)));

        Assert.True(splitsCharacter);
    }

    [Theory]
    [MemberData(nameof(GoldenCases.ChatIndices), MemberType = typeof(GoldenCases))]
    public void Streamed_chat_prompt_equals_full_decode(int index)
    {
        var ids = GoldenCases.Chat[index].Ids;
        var detokenizer = _tokenizer.CreateIncrementalDetokenizer(skipSpecialTokens: true);

        var streamed = string.Concat(ids.Select(detokenizer.Push)) + detokenizer.Flush();

        Assert.Equal(_tokenizer.Decode(ids, skipSpecialTokens: true), streamed);
    }

    [Fact]
    public void Partial_character_is_held_until_complete()
    {
        var byteTokens = Encoding.UTF8.GetBytes("🚀").Select(b => ByteToken(b)).ToList();
        var detokenizer = _tokenizer.CreateIncrementalDetokenizer(skipSpecialTokens: false);

        Assert.Equal(string.Empty, detokenizer.Push(byteTokens[0]));
        Assert.Equal(string.Empty, detokenizer.Push(byteTokens[1]));
        Assert.Equal(string.Empty, detokenizer.Push(byteTokens[2]));
        Assert.Equal("🚀", detokenizer.Push(byteTokens[3]));
        Assert.Equal(string.Empty, detokenizer.Flush());
    }

    [Fact]
    public void Flush_turns_an_unfinished_character_into_a_replacement()
    {
        var detokenizer = _tokenizer.CreateIncrementalDetokenizer(skipSpecialTokens: false);

        Assert.Equal("a", detokenizer.Push(_tokenizer.TokenToId("a")!.Value));
        Assert.Equal(string.Empty, detokenizer.Push(ByteToken(0xE4)));
        Assert.Equal(Replacement.ToString(), detokenizer.Flush());
    }

    [Fact]
    public void Special_tokens_are_skipped_when_asked()
    {
        var ids = new[] { _tokenizer.BosTokenId!.Value, _tokenizer.TokenToId("Hi")!.Value, _tokenizer.EosTokenId!.Value };
        var skipping = _tokenizer.CreateIncrementalDetokenizer(skipSpecialTokens: true);
        var keeping = _tokenizer.CreateIncrementalDetokenizer(skipSpecialTokens: false);

        Assert.Equal("Hi", string.Concat(ids.Select(skipping.Push)));
        Assert.Equal("<｜begin▁of▁sentence｜>Hi<｜end▁of▁sentence｜>", string.Concat(ids.Select(keeping.Push)));
    }

    // The vocabulary entry for a single byte, in GPT-2's byte-to-character form.
    private int ByteToken(byte value)
    {
        var id = Enumerable.Range(0, _tokenizer.VocabSize)
            .First(i => _tokenizer.GetTokenBytes(i) is { Length: 1 } bytes && bytes[0] == value && !_tokenizer.IsSpecialToken(i));
        return id;
    }

    private static bool IsCompleteUtf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            _ = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
            return true;
        }
        catch (DecoderFallbackException)
        {
            return false;
        }
    }
}
