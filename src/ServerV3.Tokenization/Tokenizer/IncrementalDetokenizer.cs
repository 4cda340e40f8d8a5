using System.Text;

namespace ServerV3.Tokenization;

/// <summary>
/// Turns generated token ids into text as they arrive. A token may end in the middle of a UTF-8
/// character (CJK and emoji often span tokens); those bytes are held back until the character is
/// complete, so a streamed response never shows a replacement character that the full text lacks.
/// The concatenated output equals <see cref="HfTokenizer.Decode"/> of all ids. Not thread-safe.
/// </summary>
public sealed class IncrementalDetokenizer
{
    private readonly HfTokenizer _tokenizer;
    private readonly bool _skipSpecialTokens;
    private readonly Decoder _utf8 = Encoding.UTF8.GetDecoder();
    private char[] _chars = new char[64];

    internal IncrementalDetokenizer(HfTokenizer tokenizer, bool skipSpecialTokens)
    {
        _tokenizer = tokenizer;
        _skipSpecialTokens = skipSpecialTokens;
    }

    /// <summary>Adds one token and returns the text it completes (often empty for partial characters).</summary>
    public string Push(int tokenId)
    {
        if (_skipSpecialTokens && _tokenizer.IsSpecialToken(tokenId))
            return string.Empty;
        return DecodeBytes(_tokenizer.GetTokenBytes(tokenId), flush: false);
    }

    /// <summary>Ends the stream: bytes of a character that never completed come out as U+FFFD.</summary>
    public string Flush() => DecodeBytes([], flush: true);

    private string DecodeBytes(ReadOnlySpan<byte> bytes, bool flush)
    {
        var needed = _utf8.GetCharCount(bytes, flush);
        if (needed > _chars.Length)
            _chars = new char[Math.Max(needed, _chars.Length * 2)];
        var written = _utf8.GetChars(bytes, _chars, flush);
        return written == 0 ? string.Empty : new string(_chars, 0, written);
    }
}
