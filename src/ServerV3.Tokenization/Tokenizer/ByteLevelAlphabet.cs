namespace ServerV3.Tokenization;

/// <summary>
/// GPT-2's byte-to-character table used by byte-level BPE: printable bytes map to themselves,
/// the others to U+0100 and up, so every byte sequence is a string of visible characters.
/// </summary>
internal static class ByteLevelAlphabet
{
    private static readonly Dictionary<char, byte> CharToByte = BuildCharToByte();

    /// <summary>
    /// Turns a vocabulary entry back into its bytes. Like the Hugging Face ByteLevel decoder,
    /// a token containing a character outside the table (e.g. an added token such as
    /// "&lt;｜User｜&gt;") is taken as literal text and encoded as UTF-8.
    /// </summary>
    public static byte[] TokenToBytes(string token)
    {
        var bytes = new byte[token.Length];
        for (var i = 0; i < token.Length; i++)
        {
            if (!CharToByte.TryGetValue(token[i], out bytes[i]))
                return System.Text.Encoding.UTF8.GetBytes(token);
        }
        return bytes;
    }

    private static Dictionary<char, byte> BuildCharToByte()
    {
        var map = new Dictionary<char, byte>(256);
        var next = 256;
        for (var b = 0; b < 256; b++)
        {
            var printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            map.Add(printable ? (char)b : (char)next++, (byte)b);
        }
        return map;
    }
}
