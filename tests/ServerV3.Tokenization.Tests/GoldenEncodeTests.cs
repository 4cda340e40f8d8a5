namespace ServerV3.Tokenization.Tests;

[Collection(DeepSeekTokenizerCollection.Name)]
public sealed class GoldenEncodeTests(DeepSeekTokenizerFixture fixture)
{
    private readonly HfTokenizer _tokenizer = fixture.Tokenizer;

    [Fact]
    public void Golden_vectors_are_encoded_without_special_tokens()
    {
        Assert.False(GoldenCases.EncodeAddsSpecialTokens);
        Assert.Equal(325, GoldenCases.Encode.Count);
    }

    [Theory]
    [MemberData(nameof(GoldenCases.EncodeIndices), MemberType = typeof(GoldenCases))]
    public void Encode_matches_golden_ids(int index)
    {
        var golden = GoldenCases.Encode[index];

        Assert.Equal(golden.Ids, _tokenizer.Encode(golden.Text, addSpecialTokens: false));
    }

    [Theory]
    [MemberData(nameof(GoldenCases.EncodeIndices), MemberType = typeof(GoldenCases))]
    public void Decode_of_golden_ids_gives_back_the_text(int index)
    {
        var golden = GoldenCases.Encode[index];

        Assert.Equal(golden.Text, _tokenizer.Decode(golden.Ids, skipSpecialTokens: false));
    }
}
