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
            var tail = text.AsSpan(Math.Max(0, text.Length - (marker.Length - 1)));
            // Candidates start with the marker's first character; the earliest match is the longest.
            for (var start = tail.IndexOf(marker[0]); start >= 0 && tail.Length - start > longest; start = NextIndexOf(tail, marker[0], start))
            {
                if (marker.AsSpan().StartsWith(tail[start..]))
                {
                    longest = tail.Length - start;
                    break;
                }
            }
        }
        return longest;
    }

    private static int NextIndexOf(ReadOnlySpan<char> text, char value, int after)
    {
        var next = text[(after + 1)..].IndexOf(value);
        return next < 0 ? -1 : after + 1 + next;
    }
}
