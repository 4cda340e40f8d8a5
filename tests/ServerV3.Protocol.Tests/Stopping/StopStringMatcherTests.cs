namespace ServerV3.Protocol.Tests.Stopping;

public class StopStringMatcherTests
{
    public static TheoryData<string, string[], string, string?> Cases() => new()
    {
        { "Hello world. Bye.", ["."], "Hello world", "." },
        { "Hello world", ["xyz"], "Hello world", null },
        { "Hello world", [], "Hello world", null },
        { "abcd", ["bc", "abcd"], "a", "bc" },               // the stop completed first wins
        { "abcd", ["abcd", "bcd"], "", "abcd" },             // same end: the longer one
        { "aaab", ["aab"], "a", "aab" },                     // overlapping partial matches
        { "Answer: 42\n\nQ: next", ["\n\nQ:", "\n\n\n"], "Answer: 42", "\n\nQ:" },
        { "ends with a partial sto", ["stop"], "ends with a partial sto", null },
        { "STOP at start", ["STOP"], "", "STOP" },
        { "你好世界🚀再见", ["🚀"], "你好世界", "🚀" },
        { "naïve café", ["é"], "naïve caf", "é" },
        { "<｜end▁of▁sentence｜> x", ["<｜end▁of▁sentence｜>"], "", "<｜end▁of▁sentence｜>" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TruncatesAtTheFirstStop(string text, string[] stops, string expected, string? matched) =>
        Assert.Equal(new StopTruncation(expected, matched), StopStringMatcher.Truncate(text, stops));

    [Theory]
    [MemberData(nameof(Cases))]
    public void StreamingSplitAnywhereMatchesTruncate(string text, string[] stops, string expected, string? matched)
    {
        for (var first = 0; first <= text.Length; first++)
        {
            for (var second = first; second <= text.Length; second++)
                Assert.Equal(new StopTruncation(expected, matched), Stream(stops, text[..first], text[first..second], text[second..]));
        }
        Assert.Equal(new StopTruncation(expected, matched), Stream(stops, [.. text.Select(c => c.ToString())]));
    }

    [Fact]
    public void HoldsBackOnlyWhatCouldStartAStop()
    {
        var matcher = new StopStringMatcher(["</answer>", "STOP"]);
        Assert.Equal("The answer is ", matcher.Push("The answer is </ans"));
        Assert.Equal("", matcher.Push("w"));
        Assert.Equal("</answe!", matcher.Push("e!"));
        Assert.False(matcher.IsStopped);
        Assert.Equal("done ", matcher.Push("done ST"));
        Assert.Equal("", matcher.Push("OP and more"));
        Assert.Equal("STOP", matcher.MatchedStop);
        Assert.Equal("", matcher.Push("ignored"));
        Assert.Equal("", matcher.Flush());
    }

    [Fact]
    public void FlushReleasesAnUnfinishedPrefix()
    {
        var matcher = new StopStringMatcher(["\n\nUser:"]);
        Assert.Equal("Bye.", matcher.Push("Bye.\n\nUse"));
        Assert.Equal("\n\nUse", matcher.Flush());
        Assert.Null(matcher.MatchedStop);
    }

    [Fact]
    public void EmptyStopStringsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => new StopStringMatcher(["ok", ""]));
    }

    private static StopTruncation Stream(string[] stops, params string[] pieces)
    {
        var matcher = new StopStringMatcher(stops);
        var sent = string.Concat(pieces.Select(matcher.Push)) + matcher.Flush();
        return new StopTruncation(sent, matcher.MatchedStop);
    }
}
