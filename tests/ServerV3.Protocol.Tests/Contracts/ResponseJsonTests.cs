namespace ServerV3.Protocol.Tests.Contracts;

/// <summary>
/// Samples shaped as OpenAI's (and vLLM's) real wire output; each must read and write back
/// unchanged apart from the named fields this server does not produce.
/// </summary>
public class ResponseJsonTests
{
    private static readonly ProtocolJsonContext Json = ProtocolJsonContext.Default;

    [Fact]
    public void ChatCompletionWithText()
    {
        const string sample = """
            {
              "id": "chatcmpl-B9MBs8CjcvOU2jLn4n570S5qMJKcT",
              "object": "chat.completion",
              "created": 1741569952,
              "model": "gpt-4.1-2025-04-14",
              "choices": [
                {
                  "index": 0,
                  "message": { "role": "assistant", "content": "Hello! How can I assist you today?", "refusal": null, "annotations": [] },
                  "logprobs": null,
                  "finish_reason": "stop"
                }
              ],
              "usage": {
                "prompt_tokens": 19,
                "completion_tokens": 10,
                "total_tokens": 29,
                "prompt_tokens_details": { "cached_tokens": 0, "audio_tokens": 0 },
                "completion_tokens_details": { "reasoning_tokens": 0, "audio_tokens": 0, "accepted_prediction_tokens": 0, "rejected_prediction_tokens": 0 }
              },
              "service_tier": "default",
              "system_fingerprint": "fp_44709d6fcb"
            }
            """;
        var completion = JsonAssert.RoundTrip(sample, Json.ChatCompletion, "annotations", "prompt_tokens_details", "completion_tokens_details", "service_tier");
        Assert.Equal("Hello! How can I assist you today?", completion.Choices[0].Message.Content);
        Assert.Equal(29, completion.Usage.TotalTokens);
    }

    [Fact]
    public void ChatCompletionWithToolCallsSendsNullContent()
    {
        const string sample = """
            {
              "id": "chatcmpl-BcQ8ko2nz9B7CRvV0uVbcowidHpQU",
              "object": "chat.completion",
              "created": 1748496646,
              "model": "gpt-4o-2024-08-06",
              "choices": [
                {
                  "index": 0,
                  "message": {
                    "role": "assistant",
                    "content": null,
                    "tool_calls": [
                      { "id": "call_qOfTGgDrItLORNfC6VwUbyLL", "type": "function", "function": { "name": "get_weather", "arguments": "{\"location\":\"Shanghai\"}" } }
                    ],
                    "refusal": null,
                    "annotations": []
                  },
                  "logprobs": null,
                  "finish_reason": "tool_calls"
                }
              ],
              "usage": { "prompt_tokens": 91, "completion_tokens": 14, "total_tokens": 105 },
              "system_fingerprint": "fp_76544d79cb"
            }
            """;
        var completion = JsonAssert.RoundTrip(sample, Json.ChatCompletion, "annotations");
        Assert.Equal("get_weather", completion.Choices[0].Message.ToolCalls![0].Function.Name);
    }

    [Fact]
    public void AssistantMessageFactoryMatchesOpenAiNullness()
    {
        var calls = new[] { new ToolCall { Id = "call_1", Function = new FunctionCall("f", "{}") } };
        Assert.Null(ChatCompletionMessage.Assistant("", calls).Content);
        Assert.Equal("Let me check.", ChatCompletionMessage.Assistant("Let me check.", calls).Content);
        var textOnly = ChatCompletionMessage.Assistant("", []);
        Assert.Equal("", textOnly.Content);
        Assert.Null(textOnly.ToolCalls);
        JsonAssert.Equal("""{"role":"assistant","content":"","refusal":null}""", Serialize(textOnly));
    }

    [Fact]
    public void ChatLogprobs()
    {
        const string sample = """
            {
              "id": "chatcmpl-123", "object": "chat.completion", "created": 1702685778, "model": "gpt-4o-mini",
              "choices": [
                {
                  "index": 0,
                  "message": { "role": "assistant", "content": "Hello!", "refusal": null },
                  "logprobs": {
                    "content": [
                      {
                        "token": "Hello", "logprob": -0.31725305, "bytes": [72, 101, 108, 108, 111],
                        "top_logprobs": [
                          { "token": "Hello", "logprob": -0.31725305, "bytes": [72, 101, 108, 108, 111] },
                          { "token": "Hi", "logprob": -1.3190403, "bytes": [72, 105] }
                        ]
                      },
                      { "token": "!", "logprob": -0.02380986, "bytes": [33], "top_logprobs": [] }
                    ],
                    "refusal": null
                  },
                  "finish_reason": "stop"
                }
              ],
              "usage": { "prompt_tokens": 9, "completion_tokens": 2, "total_tokens": 11 },
              "system_fingerprint": null
            }
            """;
        var completion = JsonAssert.RoundTrip(sample, Json.ChatCompletion);
        Assert.Equal(-1.3190403, completion.Choices[0].Logprobs!.Content![0].TopLogprobs[1].Logprob);
    }

    [Theory]
    [InlineData("""{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":"","refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}""")]
    [InlineData("""{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"content":"Hello"},"logprobs":null,"finish_reason":null}],"usage":null}""")]
    [InlineData("""{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_DdmO9pD3xa9XTPNJ32zg2hcA","type":"function","function":{"name":"get_weather","arguments":""}}],"refusal":null},"logprobs":null,"finish_reason":null}],"usage":null}""")]
    [InlineData("""{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\""}}]},"logprobs":null,"finish_reason":null}],"usage":null}""")]
    [InlineData("""{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[{"index":0,"delta":{},"logprobs":null,"finish_reason":"stop"}],"usage":null}""")]
    public void ChatCompletionChunks(string sample)
    {
        // "content": null and "refusal": null in OpenAI's first tool-call delta are left out here: the
        // role chunk came before, and the SDKs treat a missing delta field as no change.
        var chunk = JsonAssert.RoundTrip(sample.Replace("\"content\":null,", "", StringComparison.Ordinal), Json.ChatCompletionChunk, "refusal", "usage");
        Assert.Single(chunk.Choices);
    }

    [Fact]
    public void ChatCompletionUsageChunk()
    {
        const string sample = """{"id":"chatcmpl-123","object":"chat.completion.chunk","created":1694268190,"model":"gpt-4o-mini","system_fingerprint":"fp_44709d6fcb","choices":[],"usage":{"prompt_tokens":9,"completion_tokens":12,"total_tokens":21}}""";
        var chunk = JsonAssert.RoundTrip(sample, Json.ChatCompletionChunk);
        Assert.Empty(chunk.Choices);
        Assert.Equal(21, chunk.Usage!.TotalTokens);
    }

    [Fact]
    public void TextCompletion()
    {
        const string sample = """
            {
              "id": "cmpl-uqkvlQyYK7bGYrRHQ0eXlWi7", "object": "text_completion", "created": 1589478378,
              "model": "gpt-3.5-turbo-instruct", "system_fingerprint": "fp_44709d6fcb",
              "choices": [ { "text": "\n\nThis is indeed a test", "index": 0, "logprobs": null, "finish_reason": "length" } ],
              "usage": { "prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12 }
            }
            """;
        JsonAssert.RoundTrip(sample, Json.Completion);
    }

    [Fact]
    public void TextCompletionLogprobsWithEcho()
    {
        const string sample = """
            {
              "id": "cmpl-7", "object": "text_completion", "created": 1589478378, "model": "gpt-3.5-turbo-instruct", "system_fingerprint": null,
              "choices": [
                {
                  "text": "Say this is a test", "index": 0, "finish_reason": "length",
                  "logprobs": {
                    "tokens": ["Say", " this", " is"],
                    "token_logprobs": [null, -6.1, -0.25],
                    "top_logprobs": [null, { " this": -6.1, " that": -2.5 }, { " is": -0.25 }],
                    "text_offset": [0, 3, 8]
                  }
                }
              ],
              "usage": { "prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6 }
            }
            """;
        var completion = JsonAssert.RoundTrip(sample, Json.Completion);
        Assert.Null(completion.Choices[0].Logprobs!.TokenLogprobs[0]);
        Assert.Equal(-2.5, completion.Choices[0].Logprobs!.TopLogprobs[1]![" that"]);
    }

    [Fact]
    public void TextCompletionChunk()
    {
        const string sample = """{"id":"cmpl-8","object":"text_completion","created":1690759702,"choices":[{"text":"This","index":0,"logprobs":null,"finish_reason":null}],"model":"gpt-3.5-turbo-instruct","system_fingerprint":null}""";
        JsonAssert.RoundTrip(sample, Json.Completion);
    }

    [Fact]
    public void ModelListAndVllmCard()
    {
        const string list = """
            {
              "object": "list",
              "data": [
                { "id": "model-id-0", "object": "model", "created": 1686935002, "owned_by": "organization-owner" },
                { "id": "deepseek-ai/DeepSeek-V3", "object": "model", "created": 1735689600, "owned_by": "vllm", "root": "deepseek-ai/DeepSeek-V3", "parent": null, "max_model_len": 163840, "permission": [] }
              ]
            }
            """;
        var models = JsonAssert.RoundTrip(list, Json.ModelList, "root", "parent", "permission");
        Assert.Equal(163840, models.Data[1].MaxModelLen);
        JsonAssert.RoundTrip("""{"id":"m","object":"model","created":1,"owned_by":"serverv3"}""", Json.ModelCard);
    }

    [Fact]
    public void TokenizeAndDetokenizeResponses()
    {
        var tokenized = JsonAssert.RoundTrip("""{"count":3,"max_model_len":163840,"tokens":[0,14,9]}""", Json.TokenizeResponse);
        Assert.Equal(3, tokenized.Count);
        JsonAssert.RoundTrip("""{"prompt":"Hello world"}""", Json.DetokenizeResponse);
    }

    [Fact]
    public void ErrorBodyKeepsNullParamAndCode()
    {
        JsonAssert.RoundTrip(
            """{"error":{"message":"The model `gpt-5` does not exist or you do not have access to it.","type":"invalid_request_error","param":null,"code":"model_not_found"}}""",
            Json.ErrorResponse);
        JsonAssert.Equal(
            """{"error":{"message":"Service is loading.","type":"server_error","param":null,"code":null}}""",
            System.Text.Encoding.UTF8.GetString(ApiError.ServiceUnavailable("Service is loading.").ToJsonBytes()));
    }

    private static string Serialize(ChatCompletionMessage message) =>
        System.Text.Json.JsonSerializer.Serialize(message, ProtocolJsonContext.Default.GetTypeInfo(typeof(ChatCompletionMessage))!);
}
