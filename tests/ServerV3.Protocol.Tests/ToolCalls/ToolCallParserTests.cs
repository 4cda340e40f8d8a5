namespace ServerV3.Protocol.Tests.ToolCalls;

public class ToolCallParserTests
{
    private const string CallsBegin = "<｜tool▁calls▁begin｜>";
    private const string CallsEnd = "<｜tool▁calls▁end｜>";
    private const string CallBegin = "<｜tool▁call▁begin｜>";
    private const string CallEnd = "<｜tool▁call▁end｜>";
    private const string Separator = "<｜tool▁sep｜>";

    [Fact]
    public void GoldenRendersHoldBothCallCounts()
    {
        Assert.True(GoldenToolCalls.Turns.Count >= 10);
        Assert.Contains(GoldenToolCalls.Turns, turn => turn.Calls.Count == 1);
        Assert.Contains(GoldenToolCalls.Turns, turn => turn.Calls.Count == 2);
    }

    [Theory]
    [MemberData(nameof(GoldenToolCalls.Indexes), MemberType = typeof(GoldenToolCalls))]
    public void ParsesWhatTheTemplateRendered(int turn)
    {
        var (output, calls) = GoldenToolCalls.Turns[turn];
        var parsed = ToolCallParser.Parse(output);
        Assert.Equal("", parsed.Content);
        Assert.Equal(calls, parsed.ToolCalls.Select(call => (call.Function.Name, call.Function.Arguments)));
        Assert.All(parsed.ToolCalls, call => Assert.Matches("^call_[A-Za-z0-9]{24}$", call.Id));
        Assert.All(parsed.ToolCalls, call => Assert.Equal("function", call.Type));
    }

    [Theory]
    [MemberData(nameof(GoldenToolCalls.Indexes), MemberType = typeof(GoldenToolCalls))]
    public void StreamingSplitAnywhereMatchesWholeText(int turn)
    {
        var output = "Checking that for you. " + GoldenToolCalls.Turns[turn].Output;
        var expected = Describe(ToolCallParser.Parse(output));
        for (var split = 0; split <= output.Length; split++)
            Assert.Equal(expected, Describe(Stream([output[..split], output[split..]])));
        Assert.Equal(expected, Describe(Stream(output.Select(c => c.ToString()))));
    }

    [Fact]
    public void StreamingSplitAtEveryPairOfBoundaries()
    {
        var output = "Sure.\n" + GoldenToolCalls.Turns.Where(turn => turn.Calls.Count == 2).MinBy(turn => turn.Output.Length).Output;
        var expected = Describe(ToolCallParser.Parse(output));
        for (var first = 0; first <= output.Length; first++)
        {
            for (var second = first; second <= output.Length; second++)
                Assert.Equal(expected, Describe(Stream([output[..first], output[first..second], output[second..]])));
        }
    }

    [Fact]
    public void StreamedDeltasHaveOpenAiShape()
    {
        var (turnOutput, calls) = GoldenToolCalls.Turns.First(turn => turn.Calls.Count == 2);
        var output = "Let me look.\n" + turnOutput;
        var deltas = StreamDeltas(output.Select(c => c.ToString())).ToList();

        var content = string.Concat(deltas.Select(d => d.Content));
        Assert.Equal("Let me look.\n", content);
        var callEntries = deltas.SelectMany(d => d.ToolCalls ?? []).ToList();
        var firsts = callEntries.Where(entry => entry.Id is not null).ToList();
        Assert.Equal([0, 1], firsts.Select(entry => entry.Index));
        Assert.All(firsts, entry => Assert.Equal(("function", ""), (entry.Type, entry.Function!.Arguments)));
        Assert.Equal(calls.Select(call => call.Name), firsts.Select(entry => entry.Function!.Name));
        var later = callEntries.Where(entry => entry.Id is null).ToList();
        Assert.All(later, entry => Assert.Equal((null, null), (entry.Type, entry.Function!.Name)));
        Assert.DoesNotContain(deltas, d => d.Content is { } text && text.Contains('｜', StringComparison.Ordinal));
        Assert.DoesNotContain(later, entry => entry.Function!.Arguments!.Contains('`', StringComparison.Ordinal));
    }

    [Fact]
    public void ContentBeforeCallsIsKept()
    {
        var parsed = ToolCallParser.Parse($"I'll check.{CallsBegin}{CallBegin}function{Separator}get_weather\n```json\n{{\"city\": \"Paris\"}}\n```{CallEnd}{CallsEnd}");
        Assert.Equal("I'll check.", parsed.Content);
        Assert.Equal(("get_weather", "{\"city\": \"Paris\"}"), (parsed.ToolCalls[0].Function.Name, parsed.ToolCalls[0].Function.Arguments));
    }

    [Theory]
    [InlineData("Plain answer.")]
    [InlineData("a < b and <｜ is not a marker, nor is <｜tool▁call")]
    [InlineData("")]
    public void TextWithoutCallsIsAllContent(string text)
    {
        Assert.Equal(text, Stream(text.Select(c => c.ToString())).Content);
        var parsed = ToolCallParser.Parse(text);
        Assert.Equal(text, parsed.Content);
        Assert.Empty(parsed.ToolCalls);
    }

    [Fact]
    public void PartialMarkerIsHeldBackUntilResolved()
    {
        var parser = new ToolCallStreamParser();
        Assert.Equal("Hi ", parser.Push("Hi <｜tool▁ca")!.Content);
        Assert.Null(parser.Push("ll"));
        var delta = parser.Push("s▁begin｜>")!;
        Assert.Null(delta);
        var start = parser.Push($"{CallBegin}function{Separator}f\n")!;
        Assert.Equal(("f", ""), (start.ToolCalls![0].Function!.Name, start.ToolCalls[0].Function!.Arguments));
        Assert.True(parser.HasToolCalls);
    }

    [Fact]
    public void TruncatedCallKeepsItsArguments()
    {
        var parsed = ToolCallParser.Parse($"{CallsBegin}{CallBegin}function{Separator}f\n```json\n{{\"a\": 1, \"b\"");
        Assert.Equal(("f", "{\"a\": 1, \"b\""), (parsed.ToolCalls[0].Function.Name, parsed.ToolCalls[0].Function.Arguments));
        var cutInFence = ToolCallParser.Parse($"{CallsBegin}{CallBegin}function{Separator}f\n```json\n{{}}\n``");
        Assert.Equal("{}", cutInFence.ToolCalls[0].Function.Arguments);
    }

    [Fact]
    public void CallCutBeforeItsNameIsDropped() =>
        Assert.Empty(ToolCallParser.Parse($"{CallsBegin}{CallBegin}function{Separator}get_wea").ToolCalls);

    [Theory]
    [InlineData("f\n{\"a\": 1}")]
    [InlineData("f\n```json\n{\"a\": 1}\n```")]
    [InlineData("f\n\n```json\n\n{\"a\": 1}\n\n```\n")]
    [InlineData(" f \n```json{\"a\": 1}```")]
    public void FenceAndWhitespaceAreOptional(string call)
    {
        var parsed = ToolCallParser.Parse($"{CallsBegin}{CallBegin}function{Separator}{call}{CallEnd}{CallsEnd}");
        Assert.Equal(("f", "{\"a\": 1}"), (parsed.ToolCalls[0].Function.Name, parsed.ToolCalls[0].Function.Arguments));
    }

    [Fact]
    public void BackticksInsideArgumentsSurvive()
    {
        var arguments = "{\"code\": \"```py\\nprint(1)\\n```\", \"n\": 2}";
        var output = $"{CallsBegin}{CallBegin}function{Separator}run\n```json\n{arguments}\n```{CallEnd}{CallsEnd}";
        Assert.Equal(arguments, ToolCallParser.Parse(output).ToolCalls[0].Function.Arguments);
        Assert.Equal(arguments, Describe(Stream(output.Select(c => c.ToString()))).Split('|')[2]);
    }

    [Fact]
    public void LoneCallBeginStartsCallsAndTextAfterTheCallsIsDropped()
    {
        var parsed = ToolCallParser.Parse($"x{CallBegin}function{Separator}f\n```json\n{{}}\n```{CallEnd}\n{CallsEnd}trailing text");
        Assert.Equal("x", parsed.Content);
        Assert.Equal(("f", "{}"), (parsed.ToolCalls[0].Function.Name, parsed.ToolCalls[0].Function.Arguments));
    }

    [Fact]
    public void FinishIsIdempotent()
    {
        var parser = new ToolCallStreamParser();
        Assert.Null(parser.Push("<｜tool"));
        Assert.Equal("<｜tool", parser.Finish()!.Content);
        Assert.Null(parser.Finish());
        Assert.Null(parser.Push("more"));
        Assert.False(parser.HasToolCalls);
    }

    private static ParsedToolCalls Stream(IEnumerable<string> pieces)
    {
        var accumulator = new ChatDeltaAccumulator();
        foreach (var delta in StreamDeltas(pieces)) accumulator.Add(delta);
        return accumulator.ToResult();
    }

    private static IEnumerable<ChatCompletionDelta> StreamDeltas(IEnumerable<string> pieces)
    {
        var parser = new ToolCallStreamParser();
        foreach (var piece in pieces)
        {
            if (parser.Push(piece) is { } delta) yield return delta;
        }
        if (parser.Finish() is { } last) yield return last;
    }

    /// <summary>Everything but the random call ids.</summary>
    private static string Describe(ParsedToolCalls parsed) =>
        string.Join("|", parsed.ToolCalls.Select(call => $"{call.Function.Name}|{call.Function.Arguments}").Prepend(parsed.Content));
}
