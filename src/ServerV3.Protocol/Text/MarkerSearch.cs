namespace ServerV3.Protocol;

/// <summary>
/// Finds marker strings (stop strings, tool-call tokens) in streamed text. Shared by the stop-string
/// matcher and the tool-call parser so that both hold back exactly the text that could still turn
/// into a marker.
/// </summary>
internal static class MarkerSearch
{
    /// <summary>
    /// The marker occurrence that is complete first, i.e. ends earliest (the longer one when two end
    /// together), which is where generation would have stopped had the text come token by token.
    /// </summary>
    public static MarkerMatch? FindFirst(string text, IReadOnlyList<string> markers)
    {
        MarkerMatch? best = null;
        foreach (var marker in markers)
        {
            var index = text.IndexOf(marker, StringComparison.Ordinal);
            if (index < 0) continue;
            var end = index + marker.Length;
            if (best is not { } current || end < current.End || (end == current.End && index < current.Index))
                best = new MarkerMatch(index, marker);
        }
        return best;
    }

    /// <summary>Length of the longest end of <paramref name="text"/> that starts some marker without completing it.</summary>
    public static int PartialSuffixLength(string text, IReadOnlyList<string> markers)
    {
        var longest = 0;
        foreach (var marker in markers)
        {
            for (var length = Math.Min(text.Length, marker.Length - 1); length > longest; length--)
            {
                if (text.AsSpan(text.Length - length).SequenceEqual(marker.AsSpan(0, length)))
                {
                    longest = length;
                    break;
                }
            }
        }
        return longest;
    }
}
