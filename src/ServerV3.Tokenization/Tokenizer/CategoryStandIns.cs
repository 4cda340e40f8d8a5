using System.Globalization;

namespace ServerV3.Tokenization;

/// <summary>
/// One BMP character per Unicode general category, used to give a .NET regex the view of a
/// supplementary-plane character that Hugging Face's code-point regexes have.
/// </summary>
internal static class CategoryStandIns
{
    private static readonly char[] StandIns = Build();

    public static char For(UnicodeCategory category) => StandIns[(int)category];

    private static char[] Build()
    {
        var table = new char[Enum.GetValues<UnicodeCategory>().Length];
        for (var c = 0x100; c <= 0xFFFD; c++)
        {
            if (IsInLiteralScriptRange(c))
                continue;
            var category = CharUnicodeInfo.GetUnicodeCategory((char)c);
            if (table[(int)category] == '\0')
                table[(int)category] = (char)c;
        }
        return table;
    }

    // Pre-tokenizer patterns name these ranges literally (DeepSeek: CJK and kana); a stand-in from
    // them could match a literal class that the real character does not belong to.
    private static bool IsInLiteralScriptRange(int c) =>
        c is >= 0x2E80 and <= 0x9FFF or >= 0xAC00 and <= 0xDFFF or >= 0xF900 and <= 0xFAFF or >= 0xFF00 and <= 0xFFEF;
}
