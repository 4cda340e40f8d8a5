using System.Globalization;
using System.Text;

namespace ServerV3.Tokenization.Tests;

public sealed class PreTokenizerTests
{
    [Fact]
    public void Every_supplementary_category_has_a_bmp_stand_in_of_that_category()
    {
        var categories = new HashSet<UnicodeCategory>();
        for (var c = 0x10000; c <= 0x10FFFF; c += 7)
            categories.Add(Rune.GetUnicodeCategory(new Rune(c)));

        Assert.All(categories, category => Assert.Equal(category, CharUnicodeInfo.GetUnicodeCategory(CategoryStandIns.For(category))));
    }

    [Fact]
    public void Emoji_count_as_symbols_in_pre_tokenizer_patterns()
    {
        var definition = TokenizerDefinition.Load(Path.Combine(TestData.KjvTinyDirectory, "tokenizer.json"));
        var preTokenizer = new SplitSequencePreTokenizer(definition.PreTokenizerSteps);
        const string text = "x!🚀?\n";

        var pieces = preTokenizer.PreTokenize(text).Select(p => text.Substring(p.Offset, p.Length));

        // DeepSeek's " ?[\p{P}\p{S}]+[\r\n]*" takes the whole run, as Hugging Face's code-point
        // regex does; seen as two surrogates the emoji would split it in three.
        Assert.Equal(["x", "!🚀?\n"], pieces);
    }
}
