using System.Net;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ServerV3.Server.Tests.Http;

/// <summary>The wire format without a client library: SSE framing, error statuses and bodies, abuse, disconnects.</summary>
[Collection(ServerCollection.Name)]
public sealed partial class RawHttpTests(ServerFixture server)
{
    private Task<HttpResponseMessage> PostAsync(string path, string json, HttpCompletionOption completion = HttpCompletionOption.ResponseContentRead) =>
        server.Http.SendAsync(new HttpRequestMessage(HttpMethod.Post, path) { Content = new StringContent(json, Encoding.UTF8, "application/json") }, completion);

    [GeneratedRegex(@"^(data: \{[^\n]*\}\n\n)+data: \[DONE\]\n\n$")]
    private static partial Regex SseBody();

    [Fact]
    public async Task ChatStreamIsFramedAsOpenAiDoes()
    {
        using var response = await PostAsync("/v1/chat/completions",
            """{"messages":[{"role":"user","content":"Blessed are the"}],"max_tokens":3,"temperature":0,"stream":true,"stream_options":{"include_usage":true}}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/event-stream", response.Content.Headers.ContentType?.MediaType);
        string body = await response.Content.ReadAsStringAsync();
        Assert.Matches(SseBody(), body);
        var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToArray();
        Assert.All(events, e => Assert.Equal("chat.completion.chunk", e.GetProperty("object").GetString()));
        Assert.Single(events.Select(e => e.GetProperty("id").GetString()).Distinct());
        var first = events[0].GetProperty("choices")[0].GetProperty("delta");
        Assert.Equal("assistant", first.GetProperty("role").GetString());
        Assert.Equal("", first.GetProperty("content").GetString());
        var finish = events[^2].GetProperty("choices")[0];
        Assert.Equal("length", finish.GetProperty("finish_reason").GetString());
        Assert.Equal(JsonValueKind.Object, finish.GetProperty("delta").ValueKind);
        Assert.All(events[1..^2], e => Assert.Equal(JsonValueKind.Null, e.GetProperty("choices")[0].GetProperty("finish_reason").ValueKind));
        Assert.Equal(3, events[1..^2].Length);
        var usage = events[^1];
        Assert.Equal(0, usage.GetProperty("choices").GetArrayLength());
        Assert.Equal(3, usage.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
    }

    [Theory]
    [InlineData("/v1/chat/completions", "{not json", 400, null)]
    [InlineData("/v1/chat/completions", """{"messages":[]}""", 400, "messages")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"wizard","content":"hi"}]}""", 400, "messages[0].role")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"temperature":5}""", 400, "temperature")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"max_tokens":-1}""", 400, "max_tokens")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"max_tokens":"many"}""", 400, "max_tokens")]
    [InlineData("/v1/chat/completions", """{"model":"gpt-4","messages":[{"role":"user","content":"hi"}]}""", 404, "model")]
    [InlineData("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"max_tokens":5000}""", 400, null)]
    [InlineData("/v1/completions", """{"prompt":"hi","suffix":"x"}""", 400, "suffix")]
    [InlineData("/v1/completions", """{"prompt":[1, 99999]}""", 400, null)]
    public async Task BadRequestsGetOpenAiErrors(string path, string json, int status, string? param)
    {
        using var response = await PostAsync(path, json);
        Assert.Equal(status, (int)response.StatusCode);
        var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("error");
        Assert.False(string.IsNullOrEmpty(error.GetProperty("message").GetString()));
        Assert.Equal("invalid_request_error", error.GetProperty("type").GetString());
        if (param is not null) Assert.Equal(param, error.GetProperty("param").GetString());
        Assert.True(error.TryGetProperty("code", out _));
    }

    [Fact]
    public async Task ContextOverflowNamesTheLimit()
    {
        using var response = await PostAsync("/v1/chat/completions", """{"messages":[{"role":"user","content":"hi"}],"max_tokens":5000}""");
        Assert.Contains("1024", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task AnOversizedBodyGets413()
    {
        string huge = $$"""{"messages":[{"role":"user","content":"{{new string('a', 2 << 20)}}"}]}""";
        // Expect: 100-continue lets the server refuse on Content-Length before the client sends 2 MiB into a closing socket.
        using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/chat/completions") { Content = new StringContent(huge, Encoding.UTF8, "application/json") };
        request.Headers.ExpectContinue = true;
        using var response = await server.Http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.True(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.TryGetProperty("error", out _));
    }

    [Fact]
    public async Task AHundredMalformedRequestsLeaveTheServerServing()
    {
        string[] bodies =
        [
            "", "null", "[]", "{", "{\"messages\": 5}", "{\"messages\": [{\"role\": \"user\"}]}", "{\"messages\": [{\"role\": 1, \"content\": \"x\"}]}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"n\": 0}", "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"top_p\": 2}",
            "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}], \"logit_bias\": {\"abc\": 1}}",
        ];
        for (int i = 0; i < 100; i++)
        {
            string path = i % 2 == 0 ? "/v1/chat/completions" : "/v1/completions";
            using var request = new HttpRequestMessage(HttpMethod.Post, path)
            {
                // Every tenth body is invalid UTF-8.
                Content = i % 10 == 9 ? new ByteArrayContent([0x7B, 0x22, 0xFF, 0xFE, 0x22, 0x7D]) : new StringContent(bodies[i % bodies.Length], Encoding.UTF8, "application/json"),
            };
            using var response = await server.Http.SendAsync(request);
            Assert.InRange((int)response.StatusCode, 400, 499);
            Assert.True(JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.TryGetProperty("error", out _), bodies[i % bodies.Length]);
        }
        using var ok = await PostAsync("/v1/completions", """{"prompt":"The LORD","max_tokens":2}""");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
    }

    [Fact]
    public async Task AClientThatDropsAStreamFreesItsBlocks()
    {
        var engine = server.Model.Served!.Services.Engine;
        var before = engine.Counters;
        long generatedBefore = before.GeneratedTokens;
        // A client that really drops the connection: by default HttpClient would drain the rest of the body (up to 1 MB) to reuse it.
        using var client = new HttpClient(new SocketsHttpHandler { MaxResponseDrainSize = 0 }) { BaseAddress = server.BaseAddress };
        using (var response = await client.SendAsync(new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
        {
            Content = new StringContent("""{"prompt":"And Moses said","max_tokens":900,"stream":true,"temperature":0}""", Encoding.UTF8, "application/json"),
        }, HttpCompletionOption.ResponseHeadersRead))
        {
            using var stream = await response.Content.ReadAsStreamAsync();
            var buffer = new byte[256];
            int read = await stream.ReadAsync(buffer);
            Assert.True(response.IsSuccessStatusCode && read > 0, $"{response.StatusCode}: {Encoding.UTF8.GetString(buffer, 0, read)} {engine.Counters}");
        }
        // Counters are published by the engine thread after each step: wait until they show the request and its end.
        for (int i = 0; i < 300 && (engine.Counters.GeneratedTokens == generatedBefore || engine.Counters.NumRunning > 0
            || engine.Counters.NumFreeBlocks != engine.Counters.NumBlocks); i++) await Task.Delay(20);
        Assert.Equal(0, engine.Counters.NumRunning);
        Assert.Equal(engine.Counters.NumBlocks, engine.Counters.NumFreeBlocks);
        // The request was cut short, not run to its 900 tokens.
        Assert.True(engine.Counters.GeneratedTokens - generatedBefore is >= 1 and <= 899, $"{before} -> {engine.Counters}");
    }

    [Fact]
    public async Task CompletionsEchoTokenPromptsSeveralChoicesAndLogprobs()
    {
        using var response = await PostAsync("/v1/completions", """{"prompt":["In the beginning","And God said"],"n":2,"max_tokens":4,"seed":7,"logprobs":2,"echo":true}""");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var root = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        var choices = root.GetProperty("choices").EnumerateArray().ToArray();
        Assert.Equal([0, 1, 2, 3], choices.Select(c => c.GetProperty("index").GetInt32()));
        Assert.StartsWith("In the beginning", choices[1].GetProperty("text").GetString());
        Assert.StartsWith("And God said", choices[2].GetProperty("text").GetString());
        Assert.All(choices, c => Assert.Equal(4, c.GetProperty("logprobs").GetProperty("tokens").GetArrayLength()));
        Assert.Equal(16, root.GetProperty("usage").GetProperty("completion_tokens").GetInt32());
        Assert.Equal("text_completion", root.GetProperty("object").GetString());
    }

    [Fact]
    public async Task TokenizeAndDetokenizeRoundTrip()
    {
        using var tokenized = await PostAsync("/tokenize", """{"prompt":"And the LORD said unto Moses"}""");
        var root = JsonDocument.Parse(await tokenized.Content.ReadAsStringAsync()).RootElement;
        var tokens = root.GetProperty("tokens").EnumerateArray().Select(t => t.GetInt32()).ToArray();
        Assert.Equal(0, tokens[0]); // add_special_tokens: BOS
        Assert.Equal(tokens.Length, root.GetProperty("count").GetInt32());
        Assert.Equal(1024, root.GetProperty("max_model_len").GetInt32());
        using var detokenized = await PostAsync("/detokenize", JsonSerializer.Serialize(new { tokens = tokens[1..] }));
        Assert.Equal("And the LORD said unto Moses", JsonDocument.Parse(await detokenized.Content.ReadAsStringAsync()).RootElement.GetProperty("prompt").GetString());
        using var chat = await PostAsync("/tokenize", """{"messages":[{"role":"user","content":"Hi"}],"add_generation_prompt":true}""");
        Assert.Equal(HttpStatusCode.OK, chat.StatusCode);
    }

    [Fact]
    public async Task ModelsAndHealthAnswer()
    {
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/ready")).StatusCode);
        var model = JsonDocument.Parse(await server.Http.GetStringAsync("/v1/models/kjv-tiny-v3")).RootElement;
        Assert.Equal("model", model.GetProperty("object").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await server.Http.GetAsync("/v1/models/gpt-4")).StatusCode);
    }
}
