namespace ServerV3.Tokenization;

/// <summary>
/// Finds added tokens in text, leftmost first and longest at a position, as Hugging Face's
/// added vocabulary does, so "&lt;｜User｜&gt;" in a prompt becomes one id instead of BPE pieces.
/// </summary>
internal sealed class AddedTokenMatcher
{
    /// <summary>Token id of a segment that is ordinary text.</summary>
    public const int TextSegment = -1;

    private readonly Dictionary<char, AddedToken[]> _byFirstChar;

    public AddedTokenMatcher(IEnumerable<AddedToken> tokens)
    {
        _byFirstChar = tokens
            .Where(t => t.Content.Length > 0)
            .GroupBy(t => t.Content[0])
            .ToDictionary(g => g.Key, g => g.OrderByDescending(t => t.Content.Length).ToArray());
    }

    /// <summary>Splits text into segments that are either plain text or exactly one added token.</summary>
    public List<Segment> Split(string text)
    {
        var segments = new List<Segment>();
        var textStart = 0;
        var i = 0;
        while (i < text.Length)
        {
            if (!_byFirstChar.TryGetValue(text[i], out var candidates) || FindMatch(text, i, candidates) is not { } token)
            {
                i++;
                continue;
            }
            var start = i;
            var end = i + token.Content.Length;
            if (token.LeftStrip)
            {
                while (start > textStart && char.IsWhiteSpace(text[start - 1]))
                    start--;
            }
            if (token.RightStrip)
            {
                while (end < text.Length && char.IsWhiteSpace(text[end]))
                    end++;
            }
            if (start > textStart)
                segments.Add(new Segment(textStart, start - textStart, TextSegment));
            segments.Add(new Segment(start, end - start, token.Id));
            i = textStart = end;
        }
        if (textStart < text.Length)
            segments.Add(new Segment(textStart, text.Length - textStart, TextSegment));
        return segments;
    }

    private static AddedToken? FindMatch(string text, int position, AddedToken[] candidates)
    {
        foreach (var token in candidates)
        {
            if (!text.AsSpan(position).StartsWith(token.Content, StringComparison.Ordinal))
                continue;
            if (token.SingleWord && !IsWordBoundary(text, position, position + token.Content.Length))
                continue;
            return token;
        }
        return null;
    }

    private static bool IsWordBoundary(string text, int start, int end) =>
        (start == 0 || !IsWordChar(text[start - 1])) && (end == text.Length || !IsWordChar(text[end]));

    private static bool IsWordChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    /// <summary>A run of the input: <see cref="TokenId"/> is <see cref="TextSegment"/> for plain text.</summary>
    public readonly record struct Segment(int Start, int Length, int TokenId);
}
