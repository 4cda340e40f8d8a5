using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;

namespace ServerV3.Tokenization;

/// <summary>
/// A Hugging Face <c>Split</c> pre-tokenizer step with behavior <c>Isolated</c>: each match and
/// each stretch of text between matches becomes its own piece.
/// </summary>
/// <remarks>
/// Hugging Face matches over code points; .NET over UTF-16 units, where an emoji is two
/// surrogates of category Cs that <c>\p{S}</c> does not match. Text holding surrogate pairs is
/// therefore matched on a copy where each pair is one BMP stand-in of the same category.
/// </remarks>
internal sealed class IsolatedRegexSplit(Regex pattern)
{
    public Regex Pattern { get; } = pattern;

    /// <summary>Appends the pieces of <c>text[start..start+length]</c> to <paramref name="pieces"/>.</summary>
    public void Split(ReadOnlySpan<char> text, int start, int length, List<(int Offset, int Length)> pieces)
    {
        var piece = text.Slice(start, length);
        if (piece.IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            var covered = 0;
            foreach (var match in Pattern.EnumerateMatches(piece))
                covered = AddMatch(pieces, start, covered, match.Index, match.Length);
            AddTail(pieces, start, covered, length);
            return;
        }

        var mapped = ArrayPool<char>.Shared.Rent(length);
        var utf16Offsets = ArrayPool<int>.Shared.Rent(length + 1);
        try
        {
            var count = 0;
            for (var i = 0; i < length; count++)
            {
                utf16Offsets[count] = i;
                if (Rune.DecodeFromUtf16(piece[i..], out var rune, out var used) == OperationStatus.Done && !rune.IsBmp)
                {
                    mapped[count] = CategoryStandIns.For(Rune.GetUnicodeCategory(rune));
                    i += used;
                }
                else
                {
                    mapped[count] = piece[i];
                    i++;
                }
            }
            utf16Offsets[count] = length;

            var covered = 0;
            foreach (var match in Pattern.EnumerateMatches(mapped.AsSpan(0, count)))
            {
                var matchStart = utf16Offsets[match.Index];
                covered = AddMatch(pieces, start, covered, matchStart, utf16Offsets[match.Index + match.Length] - matchStart);
            }
            AddTail(pieces, start, covered, length);
        }
        finally
        {
            ArrayPool<char>.Shared.Return(mapped);
            ArrayPool<int>.Shared.Return(utf16Offsets);
        }
    }

    private static int AddMatch(List<(int Offset, int Length)> pieces, int start, int covered, int matchIndex, int matchLength)
    {
        if (matchLength == 0)
            return covered;
        if (matchIndex > covered)
            pieces.Add((start + covered, matchIndex - covered));
        pieces.Add((start + matchIndex, matchLength));
        return matchIndex + matchLength;
    }

    private static void AddTail(List<(int Offset, int Length)> pieces, int start, int covered, int length)
    {
        if (covered < length)
            pieces.Add((start + covered, length - covered));
    }
}
