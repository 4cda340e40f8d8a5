using System.Text;
using System.Text.Json;

namespace ServerV3.Protocol.Tests.Streaming;

public class ServerSentEventsTests
{
    private const long Created = 1_700_000_000;

    [Fact]
    public void ChatStreamInOpenAiOrder()
    {
        var chunks = new ChatCompletionChunkBuilder("chatcmpl-1", "deepseek-v3", Created, "fp_1");
        var events = new[]
        {
            ServerSentEvents.Format(chunks.Role(0)),
            ServerSentEvents.Format(chunks.Content(0, "Hel")),
            ServerSentEvents.Format(chunks.Content(0, "lo ‘世界’")),
            ServerSentEvents.Format(chunks.Finish(0, FinishReasons.Stop)),
            ServerSentEvents.Format(chunks.Usage(new Usage(9, 2))),
            ServerSentEvents.Done.ToArray(),
        };
        const string head = "data: {\"id\":\"chatcmpl-1\",\"object\":\"chat.completion.chunk\",\"created\":1700000000,\"model\":\"deepseek-v3\",\"system_fingerprint\":\"fp_1\"";
        Assert.Equal(
            head + ""","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}""" + "\n\n" +
            head + ""","choices":[{"index":0,"delta":{"content":"Hel"},"logprobs":null,"finish_reason":null}]}""" + "\n\n" +
            head + ""","choices":[{"index":0,"delta":{"content":"lo ‘世界’"},"logprobs":null,"finish_reason":null}]}""" + "\n\n" +
            head + ""","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}]}""" + "\n\n" +
            head + ""","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":2,"total_tokens":11}}""" + "\n\n" +
            "data: [DONE]\n\n",
            string.Concat(events.Select(Encoding.UTF8.GetString)));
    }

    [Fact]
    public void EveryEventIsOneDataLine()
    {
        var chunks = new ChatCompletionChunkBuilder("chatcmpl-2", "m", Created);
        var text = Encoding.UTF8.GetString(ServerSentEvents.Format(chunks.Content(0, "line one\nline two\r\n\n")));
        Assert.StartsWith("data: {", text, StringComparison.Ordinal);
        Assert.EndsWith("}\n\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', text[..^2]);
        var chunk = JsonSerializer.Deserialize(text["data: ".Length..], ProtocolJsonContext.Default.ChatCompletionChunk)!;
        Assert.Equal("line one\nline two\r\n\n", chunk.Choices[0].Delta.Content);
        Assert.Null(chunk.SystemFingerprint);
    }

    [Fact]
    public void ErrorEventThenDone()
    {
        var text = Encoding.UTF8.GetString(ServerSentEvents.Format(ApiError.InternalError("The engine stopped.")));
        Assert.Equal("""data: {"error":{"message":"The engine stopped.","type":"server_error","param":null,"code":null}}""" + "\n\n", text);
        Assert.Equal("data: [DONE]\n\n", Encoding.UTF8.GetString(ServerSentEvents.Done.Span));
    }

    [Fact]
    public void ToolCallStreamWithLogprobs()
    {
        var chunks = new ChatCompletionChunkBuilder("chatcmpl-3", "m", Created);
        var logprobs = new ChatCompletionLogprobs { Content = [new TokenLogprob { Token = "{", Logprob = -0.5, Bytes = [123], TopLogprobs = [] }] };
        var delta = new ChatCompletionDelta { ToolCalls = [new ToolCallDelta { Index = 0, Id = "call_x", Type = "function", Function = new FunctionCallDelta { Name = "f", Arguments = "{" } }] };
        var json = Encoding.UTF8.GetString(ServerSentEvents.Format(chunks.Delta(1, delta, logprobs)))["data: ".Length..];
        JsonAssert.Equal(
            """
            {"id":"chatcmpl-3","object":"chat.completion.chunk","created":1700000000,"model":"m","system_fingerprint":null,
             "choices":[{"index":1,"delta":{"tool_calls":[{"index":0,"id":"call_x","type":"function","function":{"name":"f","arguments":"{"}}]},
                         "logprobs":{"content":[{"token":"{","logprob":-0.5,"bytes":[123],"top_logprobs":[]}],"refusal":null},"finish_reason":null}]}
            """,
            json);
        Assert.Contains("\"finish_reason\":\"tool_calls\"", Encoding.UTF8.GetString(ServerSentEvents.Format(chunks.Finish(1, FinishReasons.ToolCalls))), StringComparison.Ordinal);
    }

    [Fact]
    public void CompletionStream()
    {
        var chunks = new CompletionChunkBuilder("cmpl-1", "m", Created);
        var events = string.Concat(
            new[] { ServerSentEvents.Format(chunks.Text(0, "Once")), ServerSentEvents.Format(chunks.Finish(0, FinishReasons.Length)), ServerSentEvents.Format(chunks.Usage(new Usage(3, 1))) }
                .Select(Encoding.UTF8.GetString));
        const string head = """data: {"id":"cmpl-1","object":"text_completion","created":1700000000,"model":"m","system_fingerprint":null""";
        Assert.Equal(
            head + ""","choices":[{"text":"Once","index":0,"logprobs":null,"finish_reason":null}]}""" + "\n\n" +
            head + ""","choices":[{"text":"","index":0,"logprobs":null,"finish_reason":"length"}]}""" + "\n\n" +
            head + ""","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}""" + "\n\n",
            events);
    }

    /// <summary>
    /// The server's path for one choice: detokenized text → stop strings → tool calls → chunks. The
    /// client's view of the stream must equal the non-streamed message.
    /// </summary>
    [Fact]
    public void StopThenToolParsingStreamsWhatTheWholeTextGives()
    {
        const string generated = "Let me check.<｜tool▁calls▁begin｜><｜tool▁call▁begin｜>function<｜tool▁sep｜>get_weather\n```json\n{\"city\": \"Paris\"}\n```<｜tool▁call▁end｜><｜tool▁calls▁end｜>\n\nUser: thanks";
        string[] stops = ["\n\nUser:"];

        var whole = ToolCallParser.Parse(StopStringMatcher.Truncate(generated, stops).Text);
        var expected = ChatCompletionMessage.Assistant(whole.Content, whole.ToolCalls);

        var chunks = new ChatCompletionChunkBuilder("chatcmpl-4", "m", Created);
        var stop = new StopStringMatcher(stops);
        var toolCalls = new ToolCallStreamParser();
        var events = new List<byte[]> { ServerSentEvents.Format(chunks.Role(0)) };
        foreach (var piece in generated.Chunk(3).Select(c => new string(c)))
        {
            if (toolCalls.Push(stop.Push(piece)) is { } delta) events.Add(ServerSentEvents.Format(chunks.Delta(0, delta)));
            if (stop.IsStopped) break;
        }
        if (toolCalls.Push(stop.Flush()) is { } tail) events.Add(ServerSentEvents.Format(chunks.Delta(0, tail)));
        if (toolCalls.Finish() is { } last) events.Add(ServerSentEvents.Format(chunks.Delta(0, last)));
        events.Add(ServerSentEvents.Format(chunks.Finish(0, toolCalls.HasToolCalls ? FinishReasons.ToolCalls : FinishReasons.Stop)));

        var received = new ChatDeltaAccumulator();
        string? finishReason = null;
        foreach (var data in events.Select(Encoding.UTF8.GetString))
        {
            var chunk = JsonSerializer.Deserialize(data["data: ".Length..], ProtocolJsonContext.Default.ChatCompletionChunk)!;
            received.Add(chunk.Choices[0].Delta);
            finishReason = chunk.Choices[0].FinishReason ?? finishReason;
        }
        var streamed = received.ToResult();
        Assert.Equal(FinishReasons.ToolCalls, finishReason);
        Assert.Equal(expected.Content, streamed.Content);
        Assert.Equal(
            expected.ToolCalls!.Select(call => (call.Function.Name, call.Function.Arguments)),
            streamed.ToolCalls.Select(call => (call.Function.Name, call.Function.Arguments)));
    }
}
