namespace ServerV3.Tokenization.Tests;

/// <summary>Loads the real DeepSeek-V3 tokenizer once for all test classes of the collection.</summary>
public sealed class DeepSeekTokenizerFixture
{
    public HfTokenizer Tokenizer { get; } = HfTokenizer.Load(TestData.GoldenTokenizerDirectory);
}

[CollectionDefinition(Name)]
public sealed class DeepSeekTokenizerCollection : ICollectionFixture<DeepSeekTokenizerFixture>
{
    public const string Name = "DeepSeek-V3 tokenizer";
}
