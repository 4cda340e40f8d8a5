namespace ServerV3.Protocol;

/// <summary>
/// Applies stop strings to one choice's streamed text. <see cref="Push"/> returns what is safe to
/// send now and holds back any ending that could be the start of a stop string, so matches are found
/// across token boundaries; once a stop string is complete, it and everything after it are dropped
/// and <see cref="MatchedStop"/> is set. Call <see cref="Flush"/> when generation ends otherwise.
/// </summary>
public sealed class StopStringMatcher
{
    private readonly IReadOnlyList<string> _stopStrings;
    private string _heldBack = "";

    public StopStringMatcher(IReadOnlyList<string> stopStrings)
    {
        ArgumentNullException.ThrowIfNull(stopStrings);
        if (stopStrings.Any(string.IsNullOrEmpty)) throw new ArgumentException("Stop strings must not be empty.", nameof(stopStrings));
        _stopStrings = stopStrings;
    }

    /// <summary>The stop string that ended the text; null while none has.</summary>
    public string? MatchedStop { get; private set; }

    public bool IsStopped => MatchedStop is not null;

    /// <summary>Truncates whole text at the first stop string, exactly as streaming it would.</summary>
    public static StopTruncation Truncate(string text, IReadOnlyList<string> stopStrings)
    {
        var matcher = new StopStringMatcher(stopStrings);
        var kept = matcher.Push(text) + matcher.Flush();
        return new StopTruncation(kept, matcher.MatchedStop);
    }

    /// <summary>Adds generated text; returns the part that can be sent (empty once stopped).</summary>
    public string Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (IsStopped) return "";
        var pending = _heldBack + text;
        if (MarkerSearch.FindFirst(pending, _stopStrings) is { } match)
        {
            MatchedStop = match.Marker;
            _heldBack = "";
            return pending[..match.Index];
        }
        var hold = MarkerSearch.PartialSuffixLength(pending, _stopStrings);
        _heldBack = pending[^hold..];
        return pending[..^hold];
    }

    /// <summary>Generation ended without a stop string: returns the held-back text.</summary>
    public string Flush()
    {
        var rest = _heldBack;
        _heldBack = "";
        return rest;
    }
}
