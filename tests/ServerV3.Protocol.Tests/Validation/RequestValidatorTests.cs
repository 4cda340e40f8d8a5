using static ServerV3.Protocol.Tests.Validation.Requests;

namespace ServerV3.Protocol.Tests.Validation;

public class RequestValidatorTests
{
    [Theory]
    [InlineData("\"max_tokens\": 0", "max_tokens", "integer_below_min_value", "Expected a value >= 1, but got 0 instead")]
    [InlineData("\"max_tokens\": -5", "max_tokens", "integer_below_min_value", "but got -5 instead")]
    [InlineData("\"max_tokens\": 2049", "max_tokens", "integer_above_max_value", "Expected a value <= 2048")]
    [InlineData("\"max_completion_tokens\": 0, \"max_tokens\": 10", "max_completion_tokens", "integer_below_min_value", ">= 1")]
    [InlineData("\"temperature\": 2.5", "temperature", "decimal_above_max_value", "Expected a value <= 2, but got 2.5 instead")]
    [InlineData("\"temperature\": -0.1", "temperature", "decimal_below_min_value", "Expected a value >= 0")]
    [InlineData("\"temperature\": 1e400", "temperature", "decimal_above_max_value", "<= 2")]
    [InlineData("\"top_p\": 0", "top_p", "decimal_below_min_value", "Expected a value > 0, but got 0 instead")]
    [InlineData("\"top_p\": 1.01", "top_p", "decimal_above_max_value", "<= 1")]
    [InlineData("\"n\": 0", "n", "integer_below_min_value", ">= 1")]
    [InlineData("\"n\": 5", "n", "integer_above_max_value", "Expected a value <= 4, but got 5 instead")]
    [InlineData("\"top_k\": -2", "top_k", "integer_below_min_value", ">= -1")]
    [InlineData("\"min_p\": 1.5", "min_p", "decimal_above_max_value", "<= 1")]
    [InlineData("\"presence_penalty\": 3", "presence_penalty", "decimal_above_max_value", "<= 2")]
    [InlineData("\"frequency_penalty\": -2.5", "frequency_penalty", "decimal_below_min_value", ">= -2")]
    [InlineData("\"repetition_penalty\": 0", "repetition_penalty", "decimal_below_min_value", "> 0")]
    [InlineData("\"logit_bias\": {\"abc\": 1}", "logit_bias", "invalid_value", "Invalid key 'abc' in 'logit_bias'")]
    [InlineData("\"logit_bias\": {\"-1\": 1}", "logit_bias", "invalid_value", "Invalid key '-1'")]
    [InlineData("\"logit_bias\": {\"129280\": 1}", "logit_bias", "invalid_value", "expected a token id from 0 to 129279")]
    [InlineData("\"logit_bias\": {\"5\": 100.5}", "logit_bias", "invalid_value", "expected a bias between -100 and 100, but got 100.5 instead")]
    [InlineData("\"logit_bias\": {\"5\": -101}", "logit_bias", "invalid_value", "between -100 and 100")]
    [InlineData("\"logprobs\": true, \"top_logprobs\": 21", "top_logprobs", "integer_above_max_value", "<= 20")]
    [InlineData("\"logprobs\": true, \"top_logprobs\": -1", "top_logprobs", "integer_below_min_value", ">= 0")]
    [InlineData("\"top_logprobs\": 2", "top_logprobs", "invalid_value", "'top_logprobs' requires 'logprobs' to be true")]
    [InlineData("\"logprobs\": false, \"top_logprobs\": 2", "top_logprobs", "invalid_value", "requires 'logprobs'")]
    [InlineData("\"stop\": [\"ok\", \"\"]", "stop", "invalid_value", "stop strings must not be empty")]
    [InlineData("\"stream_options\": {\"include_usage\": true}", "stream_options", "invalid_value", "only allowed when 'stream' is true")]
    public void InvalidChatParameter(string fields, string param, string code, string message) =>
        AssertError(ValidateChat(Chat(fields)), 400, param, code, message);

    [Theory]
    [InlineData("""{"model":"deepseek-v3"}""", "messages", "missing_required_parameter", "Missing required parameter: 'messages'.")]
    [InlineData("""{"model":"deepseek-v3","messages":[]}""", "messages", "empty_array", "Invalid 'messages': empty array")]
    [InlineData("""{"messages":[null]}""", "messages[0]", "invalid_type", "expected an object, but got null instead")]
    [InlineData("""{"messages":[{"content":"hi"}]}""", "messages[0].role", "missing_required_parameter", "'messages[0].role'")]
    [InlineData("""{"messages":[{"role":"wizard","content":"hi"}]}""", "messages[0].role", "invalid_value", "Invalid value: 'wizard'. Supported values are: 'system', 'developer', 'user', 'assistant', and 'tool'.")]
    [InlineData("""{"messages":[{"role":"user"}]}""", "messages[0].content", "missing_required_parameter", "'messages[0].content'")]
    [InlineData("""{"messages":[{"role":"system","content":null}]}""", "messages[0].content", "missing_required_parameter", "'messages[0].content'")]
    [InlineData("""{"messages":[{"role":"user","content":"hi"},{"role":"tool","content":"18C"}]}""", "messages[1].tool_call_id", "missing_required_parameter", "'messages[1].tool_call_id'")]
    [InlineData("""{"messages":[{"role":"tool","content":"18C","tool_call_id":""}]}""", "messages[0].tool_call_id", "missing_required_parameter", "tool_call_id")]
    [InlineData("""{"messages":[{"role":"assistant"}]}""", "messages[0].content", "missing_required_parameter", "'messages[0].content'")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"http://x"}}]}]}""", "messages[0].content[0].type", "invalid_value", "Only 'text' content parts are supported")]
    [InlineData("""{"messages":[{"role":"user","content":[{"text":"hi"}]}]}""", "messages[0].content[0].type", "missing_required_parameter", "content[0].type")]
    [InlineData("""{"messages":[{"role":"user","content":[{"type":"text"}]}]}""", "messages[0].content[0].text", "missing_required_parameter", "content[0].text")]
    [InlineData("""{"messages":[{"role":"assistant","tool_calls":[{"type":"function"}]}]}""", "messages[0].tool_calls[0].function", "missing_required_parameter", "function")]
    [InlineData("""{"messages":[{"role":"assistant","tool_calls":[{"function":{"arguments":"{}"}}]}]}""", "messages[0].tool_calls[0].function.name", "missing_required_parameter", "function.name")]
    [InlineData("""{"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"f"}}]}]}""", "messages[0].tool_calls[0].function.arguments", "missing_required_parameter", "function.arguments")]
    [InlineData("""{"messages":[{"role":"assistant","tool_calls":[{"type":"code","function":{"name":"f","arguments":"{}"}}]}]}""", "messages[0].tool_calls[0].type", "invalid_value", "'code'")]
    public void InvalidChatMessages(string body, string param, string code, string message) =>
        AssertError(ValidateChat(body), 400, param, code, message);

    [Theory]
    [InlineData("\"tools\": [null]", "tools[0]", "invalid_type", "expected an object")]
    [InlineData("\"tools\": [{\"function\": {\"name\": \"f\"}}]", "tools[0].type", "missing_required_parameter", "'tools[0].type'")]
    [InlineData("\"tools\": [{\"type\": \"retrieval\"}]", "tools[0].type", "invalid_value", "Invalid value: 'retrieval'")]
    [InlineData("\"tools\": [{\"type\": \"function\"}]", "tools[0].function", "missing_required_parameter", "'tools[0].function'")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {}}]", "tools[0].function.name", "missing_required_parameter", "'tools[0].function.name'")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"get weather\"}}]", "tools[0].function.name", "invalid_value", "does not match pattern")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"tool_choice\": \"sometimes\"", "tool_choice", "invalid_value", "Invalid value: 'sometimes'")]
    [InlineData("\"tool_choice\": \"required\"", "tool_choice", "invalid_value", "'tool_choice' requires 'tools'")]
    [InlineData("\"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"f\"}}", "tool_choice", "invalid_value", "requires 'tools'")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"tool_choice\": {\"type\": \"function\", \"function\": {\"name\": \"g\"}}", "tool_choice.function.name", "invalid_value", "Invalid value: 'g'")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"tool_choice\": {\"type\": \"custom\"}", "tool_choice.type", "invalid_value", "Invalid value: 'custom'")]
    [InlineData("\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\"}}], \"tool_choice\": {\"type\": \"function\"}", "tool_choice.function.name", "missing_required_parameter", "tool_choice.function.name")]
    public void InvalidTools(string fields, string param, string code, string message) =>
        AssertError(ValidateChat(Chat(fields)), 400, param, code, message);

    [Fact]
    public void UnknownModelIsNotFound()
    {
        AssertError(ValidateChat("""{"model":"gpt-4o","messages":[]}"""), 404, "model", "model_not_found", "The model `gpt-4o` does not exist.");
        AssertError(ValidateCompletion("""{"model":"gpt-4o","prompt":"x"}"""), 404, "model", "model_not_found", "gpt-4o");
        AssertError(ValidateTokenize("""{"model":"gpt-4o","prompt":"x"}"""), 404, "model", "model_not_found", "gpt-4o");
        AssertError(ValidateDetokenize("""{"model":"gpt-4o","tokens":[1]}"""), 404, "model", "model_not_found", "gpt-4o");
        AssertError(RequestValidator.ResolveModel("gpt-4o", Limits), 404, "model", "model_not_found", "gpt-4o");
    }

    [Fact]
    public void ModelDefaultsToTheFirstServedName()
    {
        Assert.Equal("deepseek-v3", Valid(ValidateChat("""{"messages":[{"role":"user","content":"hi"}]}""")).Model);
        Assert.Equal("dsv3-alias", Valid(RequestValidator.ResolveModel("dsv3-alias", Limits)));
    }

    [Theory]
    [InlineData("""{"prompt":"x","suffix":"y"}""", "suffix", "unsupported_parameter", "suffix is not supported")]
    [InlineData("""{"model":"deepseek-v3"}""", "prompt", "missing_required_parameter", "'prompt'")]
    [InlineData("""{"prompt":[]}""", "prompt", "empty_array", "Invalid 'prompt': empty array")]
    [InlineData("""{"prompt":[[1],[]]}""", "prompt[1]", "empty_array", "Invalid 'prompt[1]': empty array")]
    [InlineData("""{"prompt":[1,-3]}""", "prompt", "invalid_value", "Invalid token id -3 in 'prompt'")]
    [InlineData("""{"prompt":[[1],[129280]]}""", "prompt[1]", "invalid_value", "Invalid token id 129280")]
    [InlineData("""{"prompt":"x","logprobs":21}""", "logprobs", "integer_above_max_value", "<= 20")]
    [InlineData("""{"prompt":"x","max_tokens":0}""", "max_tokens", "integer_below_min_value", ">= 1")]
    [InlineData("""{"prompt":"x","temperature":3}""", "temperature", "decimal_above_max_value", "<= 2")]
    public void InvalidCompletion(string body, string param, string code, string message) =>
        AssertError(ValidateCompletion(body), 400, param, code, message);

    [Theory]
    [InlineData("""{"prompt":"x","messages":[{"role":"user","content":"hi"}]}""", "messages", "invalid_value", "either 'prompt' or 'messages'")]
    [InlineData("""{"model":"deepseek-v3"}""", "prompt", "missing_required_parameter", "'prompt'")]
    [InlineData("""{"messages":[{"role":"robot","content":"hi"}]}""", "messages[0].role", "invalid_value", "'robot'")]
    public void InvalidTokenize(string body, string param, string code, string message) =>
        AssertError(ValidateTokenize(body), 400, param, code, message);

    [Theory]
    [InlineData("""{"model":"deepseek-v3"}""", "tokens", "missing_required_parameter", "'tokens'")]
    [InlineData("""{"tokens":[1,200000]}""", "tokens", "invalid_value", "Invalid token id 200000 in 'tokens'")]
    public void InvalidDetokenize(string body, string param, string code, string message) =>
        AssertError(ValidateDetokenize(body), 400, param, code, message);

    [Fact]
    public void ChatRequestIsNormalized()
    {
        var request = Valid(ValidateChat("""
            {
              "model": "dsv3-alias",
              "messages": [
                { "role": "developer", "content": "Be brief." },
                { "role": "user", "content": [{ "type": "text", "text": "Weather in" }, { "type": "text", "text": "Paris?" }], "name": "ann" },
                { "role": "assistant", "content": "", "tool_calls": [{ "id": "call_1", "type": "function", "function": { "name": "get_weather", "arguments": "{}" } }] },
                { "role": "tool", "tool_call_id": "call_1", "content": "18C" }
              ],
              "max_tokens": 100, "max_completion_tokens": 50, "top_k": -1, "stop": "END", "seed": 7,
              "logit_bias": { "5": -100 }, "logprobs": true, "top_logprobs": 3,
              "stream": true, "stream_options": { "include_usage": true },
              "tools": [{ "type": "function", "function": { "name": "get_weather", "parameters": { "type": "object" } } }]
            }
            """));

        Assert.Equal("dsv3-alias", request.Model);
        Assert.Equal(["system", "user", "assistant", "tool"], request.Messages.Select(m => m.Role));
        Assert.Equal("Weather in\nParis?", request.Messages[1].Content);
        Assert.Equal("ann", request.Messages[1].Name);
        Assert.Null(request.Messages[2].Content);
        Assert.Equal(("call_1", "get_weather", "{}"), (request.Messages[2].ToolCalls[0].Id, request.Messages[2].ToolCalls[0].Function.Name, request.Messages[2].ToolCalls[0].Function.Arguments));
        Assert.Equal("call_1", request.Messages[3].ToolCallId);
        Assert.Equal(new NormalizedToolChoice(ToolChoiceMode.Auto), request.ToolChoice);
        Assert.True(request.ParsesToolCalls);
        var generation = request.Generation;
        Assert.Equal(50, generation.MaxTokens);
        Assert.Equal((1.0, 1.0, 0, 0.0, 1.0), (generation.Temperature, generation.TopP, generation.TopK, generation.MinP, generation.RepetitionPenalty));
        Assert.Equal(["END"], generation.Stop);
        Assert.Equal(7, generation.Seed);
        Assert.Equal(-100, generation.LogitBias[5]);
        Assert.Equal(3, generation.Logprobs);
        Assert.True(generation.Stream && generation.IncludeUsage);
    }

    [Fact]
    public void ChatDefaults()
    {
        var request = Valid(ValidateChat(Chat("\"tool_choice\": \"auto\", \"response_format\": {\"type\": \"json_object\"}")));
        Assert.Equal(new NormalizedToolChoice(ToolChoiceMode.None), request.ToolChoice);
        Assert.False(request.ParsesToolCalls);
        Assert.Equal(new GenerationOptions { LogitBias = request.Generation.LogitBias, Stop = request.Generation.Stop }, request.Generation);
        Assert.Empty(request.Generation.LogitBias);
        Assert.Null(request.Generation.Logprobs);
        Assert.False(Valid(ValidateChat(Chat("\"stream\": true"))).Generation.IncludeUsage);
        Assert.Equal(0, Valid(ValidateChat(Chat("\"logprobs\": true"))).Generation.Logprobs);
    }

    [Fact]
    public void NamedToolChoice()
    {
        var request = Valid(ValidateChat(Chat("""
            "tools": [{"type": "function", "function": {"name": "f"}}, {"type": "function", "function": {"name": "g"}}],
            "tool_choice": {"type": "function", "function": {"name": "g"}}
            """)));
        Assert.Equal(new NormalizedToolChoice(ToolChoiceMode.Function, "g"), request.ToolChoice);
        Assert.Equal(["f", "g"], request.Tools.Select(t => t.Name));
    }

    [Fact]
    public void CompletionRequestIsNormalized()
    {
        var single = Valid(ValidateCompletion("""{"prompt":[1,2,3],"echo":true,"logprobs":5,"n":2}"""));
        Assert.Equal([1, 2, 3], Assert.Single(single.Prompts).TokenIds);
        Assert.True(single.Echo);
        Assert.Equal((5, 2), (single.Generation.Logprobs, single.Generation.N));
        var batch = Valid(ValidateCompletion("""{"prompt":["a","b"],"suffix":null}"""));
        Assert.Equal(["a", "b"], batch.Prompts.Select(p => p.Text));
        Assert.Null(batch.Generation.MaxTokens);
    }

    [Fact]
    public void TokenizeDefaultsFollowVllm()
    {
        var prompt = Valid(ValidateTokenize("""{"prompt":"Hello"}"""));
        Assert.Equal(("Hello", true), (prompt.Prompt, prompt.AddSpecialTokens));
        var chat = Valid(ValidateTokenize("""{"messages":[{"role":"user","content":"Hi"}]}"""));
        Assert.Equal((true, false), (chat.AddGenerationPrompt, chat.AddSpecialTokens));
        Assert.Equal("Hi", chat.Messages![0].Content);
        Assert.Equal([0, 5], Valid(ValidateDetokenize("""{"tokens":[0,5]}""")).Tokens);
    }

    [Fact]
    public void ContextLength()
    {
        var noLimit = Valid(ValidateChat(Chat()));
        var asked = Valid(ValidateChat(Chat("\"max_tokens\": 1000")));
        var uncapped = Limits with { MaxTokens = null };

        Assert.Equal(2048, Valid(RequestValidator.CheckContextLength(100, noLimit, Limits)));
        Assert.Equal(3996, Valid(RequestValidator.CheckContextLength(100, noLimit, uncapped)));
        Assert.Equal(1, Valid(RequestValidator.CheckContextLength(4095, noLimit, Limits)));
        Assert.Equal(1000, Valid(RequestValidator.CheckContextLength(3096, asked, Limits)));
        AssertError(RequestValidator.CheckContextLength(3097, asked, Limits), 400, "messages", "context_length_exceeded",
            "This model's maximum context length is 4096 tokens. However, you requested 4097 tokens (3097 in the messages, 1000 in the completion).");
        AssertError(RequestValidator.CheckContextLength(4096, noLimit, Limits), 400, "messages", "context_length_exceeded",
            "maximum context length is 4096 tokens. However, your messages resulted in 4096 tokens.");
        var completion = Valid(ValidateCompletion("""{"prompt":"x"}"""));
        AssertError(RequestValidator.CheckContextLength(5000, completion, Limits), 400, "prompt", "context_length_exceeded", "your prompt resulted in 5000 tokens");
    }
}
