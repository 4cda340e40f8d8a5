using System.Text.Json;

namespace ServerV3.Protocol.Tests.Contracts;

/// <summary>Request bodies as the OpenAI SDKs and vLLM clients send them.</summary>
public class RequestJsonTests
{
    private static readonly ProtocolJsonContext Json = ProtocolJsonContext.Default;

    [Fact]
    public void ChatRequestWithEveryField()
    {
        const string body = """
            {
              "model": "deepseek-v3",
              "messages": [
                { "role": "system", "content": "Be brief." },
                { "role": "developer", "content": [{ "type": "text", "text": "Use tools." }] },
                { "role": "user", "content": [{ "type": "text", "text": "Weather in" }, { "type": "text", "text": "Paris?" }], "name": "ann" },
                { "role": "assistant", "content": null, "tool_calls": [{ "id": "call_1", "type": "function", "function": { "name": "get_weather", "arguments": "{\"city\":\"Paris\"}" } }] },
                { "role": "tool", "tool_call_id": "call_1", "content": "18C" }
              ],
              "max_tokens": 100, "max_completion_tokens": 50,
              "temperature": 0.7, "top_p": 0.9, "top_k": 40, "min_p": 0.05, "n": 2,
              "stop": ["\n\n", "END"], "seed": 42,
              "presence_penalty": 0.5, "frequency_penalty": -0.5, "repetition_penalty": 1.1,
              "logit_bias": { "128000": -100, "5": 2.5 },
              "logprobs": true, "top_logprobs": 3,
              "stream": true, "stream_options": { "include_usage": true },
              "ignore_eos": false, "user": "user-1234",
              "tools": [{ "type": "function", "function": { "name": "get_weather", "description": "Current weather", "parameters": { "type": "object", "properties": { "city": { "type": "string" } }, "required": ["city"] } } }],
              "tool_choice": { "type": "function", "function": { "name": "get_weather" } },
              "response_format": { "type": "json_object" },
              "parallel_tool_calls": true,
              "some_future_field": { "nested": [1, 2] }
            }
            """;
        var request = JsonSerializer.Deserialize(body, Json.ChatCompletionRequest)!;

        Assert.Equal(5, request.Messages!.Count);
        Assert.Equal("Be brief.", request.Messages[0]!.Content!.Text);
        Assert.Equal(["Weather in", "Paris?"], request.Messages[2]!.Content!.Parts!.Select(p => p.Text));
        Assert.Null(request.Messages[3]!.Content);
        Assert.Equal("{\"city\":\"Paris\"}", request.Messages[3]!.ToolCalls![0]!.Function!.Arguments);
        Assert.Equal("call_1", request.Messages[4]!.ToolCallId);
        Assert.Equal((100, 50), (request.MaxTokens, request.MaxCompletionTokens));
        Assert.Equal(["\n\n", "END"], request.Stop);
        Assert.Equal(2.5, request.LogitBias!["5"]);
        Assert.True(request.StreamOptions!.IncludeUsage);
        Assert.Equal("object", request.Tools![0]!.Function!.Parameters!.Value.GetProperty("type").GetString());
        Assert.Equal(("function", "get_weather"), (request.ToolChoice!.Type, request.ToolChoice.FunctionName));
        Assert.Equal(3, request.TopLogprobs);
    }

    [Theory]
    [InlineData("\"stop here\"", new[] { "stop here" })]
    [InlineData("[\"a\", \"b\"]", new[] { "a", "b" })]
    [InlineData("[]", new string[0])]
    public void StopIsAStringOrAList(string stop, string[] expected)
    {
        var request = JsonSerializer.Deserialize($$"""{"stop": {{stop}}}""", Json.ChatCompletionRequest)!;
        Assert.Equal(expected, request.Stop);
    }

    [Theory]
    [InlineData("\"none\"", "none")]
    [InlineData("\"auto\"", "auto")]
    [InlineData("\"required\"", "required")]
    public void ToolChoiceString(string json, string mode)
    {
        var request = JsonSerializer.Deserialize($$"""{"tool_choice": {{json}}}""", Json.ChatCompletionRequest)!;
        Assert.Equal(mode, request.ToolChoice!.Mode);
    }

    [Theory]
    [InlineData("\"Say this\"", false, "Say this")]
    [InlineData("[\"one\", \"two\"]", true, "one|two")]
    [InlineData("[1, 2, 3]", false, "1,2,3")]
    [InlineData("[[1, 2], [3]]", true, "1,2|3")]
    [InlineData("[]", true, "")]
    public void CompletionPromptForms(string prompt, bool isBatch, string expected)
    {
        var request = JsonSerializer.Deserialize($$"""{"prompt": {{prompt}}, "echo": true, "logprobs": 2, "suffix": null}""", Json.CompletionRequest)!;
        Assert.Equal(isBatch, request.Prompt!.IsBatch);
        Assert.Equal(expected, string.Join('|', request.Prompt.Inputs.Select(i => i.Text ?? string.Join(',', i.TokenIds!))));
        Assert.Equal((true, 2), (request.Echo, request.Logprobs));
    }

    [Theory]
    [InlineData("""{"prompt":"Say this"}""")]
    [InlineData("""{"prompt":["one","two"]}""")]
    [InlineData("""{"prompt":[1,2,3]}""")]
    [InlineData("""{"prompt":[[1,2],[3]]}""")]
    public void CompletionPromptWritesBackInItsForm(string body) =>
        JsonAssert.Equal(body, JsonSerializer.Serialize(JsonSerializer.Deserialize(body, Json.CompletionRequest)!, Json.CompletionRequest));

    [Fact]
    public void ChatRequestWritesUnionsBack()
    {
        const string body = """
            {"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"hi"}]},{"role":"user","content":"yo"}],
             "stop":["x"],"tool_choice":{"type":"function","function":{"name":"f"}}}
            """;
        JsonAssert.Equal(body, JsonSerializer.Serialize(JsonSerializer.Deserialize(body, Json.ChatCompletionRequest)!, Json.ChatCompletionRequest));
        JsonAssert.Equal("""{"tool_choice":"auto"}""", JsonSerializer.Serialize(new ChatCompletionRequest { ToolChoice = new ToolChoice { Mode = "auto" } }, Json.ChatCompletionRequest));
    }

    [Fact]
    public void TokenizeRequests()
    {
        var prompt = JsonSerializer.Deserialize("""{"model":"m","prompt":"Hello","add_special_tokens":false}""", Json.TokenizeRequest)!;
        Assert.Equal(("Hello", false), (prompt.Prompt, prompt.AddSpecialTokens));
        var chat = JsonSerializer.Deserialize("""{"messages":[{"role":"user","content":"Hi"}],"add_generation_prompt":true}""", Json.TokenizeRequest)!;
        Assert.Equal(("Hi", true), (chat.Messages![0]!.Content!.Text, chat.AddGenerationPrompt));
        var detokenize = JsonSerializer.Deserialize("""{"model":"m","tokens":[0,14,9]}""", Json.DetokenizeRequest)!;
        Assert.Equal([0, 14, 9], detokenize.Tokens);
    }
}
