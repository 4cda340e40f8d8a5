using System.Text;

namespace ServerV3.Protocol.Tests.Validation;

/// <summary>Bad bodies become 400 errors naming the parameter; nothing throws.</summary>
public class RequestParserTests
{
    private static readonly ProtocolJsonContext Json = ProtocolJsonContext.Default;

    [Theory]
    [InlineData("{")]
    [InlineData("")]
    [InlineData("{\"model\": }")]
    [InlineData("{\"model\": \"m\",}")]
    [InlineData("{'model': 'm'}")]
    public void MalformedJson(string body) =>
        Requests.AssertError(Parse(body), 400, null, "invalid_json", "We could not parse the JSON body of your request");

    [Fact]
    public void InvalidUtf8()
    {
        byte[] body = [.. "{\"model\": \""u8, 0xC3, 0x28, .. "\"}"u8];
        Requests.AssertError(RequestParser.Parse(body, Json.ChatCompletionRequest), 400, null, "invalid_json", "not valid UTF-8");
    }

    [Fact]
    public void NestingBeyondTheDepthLimit() =>
        Requests.AssertError(Parse("{\"messages\":" + new string('[', 100) + new string(']', 100) + "}"), 400, null, "invalid_json", "could not parse");

    [Theory]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"hello\"")]
    [InlineData("42")]
    public void BodyThatIsNotAnObject(string body) =>
        Requests.AssertError(Parse(body), 400, null, "invalid_json", "must be a JSON object");

    [Theory]
    [InlineData("""{"temperature": "hot"}""", "temperature", "expected a number, but got a string instead")]
    [InlineData("""{"max_tokens": 1.5}""", "max_tokens", "expected an integer, but got a number instead")]
    [InlineData("""{"n": true}""", "n", "expected an integer, but got a boolean instead")]
    [InlineData("""{"stream": "yes"}""", "stream", "expected a boolean, but got a string instead")]
    [InlineData("""{"model": 7}""", "model", "expected a string, but got an integer instead")]
    [InlineData("""{"messages": "hi"}""", "messages", "expected an array, but got a string instead")]
    [InlineData("""{"messages": [5]}""", "messages[0]", "expected an object, but got an integer instead")]
    [InlineData("""{"messages": [{"role": 1}]}""", "messages[0].role", "expected a string, but got an integer instead")]
    [InlineData("""{"messages": [{"role": "user", "content": {"text": "hi"}}]}""", "messages[0].content", "expected one of a string or array of objects, but got an object instead")]
    [InlineData("""{"messages": [{"role": "user", "content": ["hi"]}]}""", "messages[0].content[0]", "expected an object, but got a string instead")]
    [InlineData("""{"messages": [{"role": "user", "content": [{"type": "text", "text": 5}]}]}""", "messages[0].content[0].text", "expected a string, but got an integer instead")]
    [InlineData("""{"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": {}}}]}]}""", "messages[0].tool_calls[0].function.arguments", "expected a string, but got an object instead")]
    [InlineData("""{"stop": 5}""", "stop", "expected one of a string or array of strings, but got an integer instead")]
    [InlineData("""{"stop": ["a", null]}""", "stop[1]", "expected a string, but got null instead")]
    [InlineData("""{"logit_bias": [1]}""", "logit_bias", "expected an object, but got an array instead")]
    [InlineData("""{"logit_bias": {"5": "up"}}""", "logit_bias.5", "expected a number, but got a string instead")]
    [InlineData("""{"stream_options": {"include_usage": "yes"}}""", "stream_options.include_usage", "expected a boolean, but got a string instead")]
    [InlineData("""{"tools": [{"type": "function", "function": {"name": 5}}]}""", "tools[0].function.name", "expected a string, but got an integer instead")]
    [InlineData("""{"tool_choice": 5}""", "tool_choice", "expected one of a string or object, but got an integer instead")]
    [InlineData("""{"tool_choice": {"type": "function", "function": {"name": []}}}""", "tool_choice.function.name", "expected a string, but got an array instead")]
    [InlineData("""{"logprobs": 3}""", "logprobs", "expected a boolean, but got an integer instead")]
    public void WrongChatTypesNameTheParameter(string body, string param, string message) =>
        Requests.AssertError(Parse(body), 400, param, "invalid_type", $"Invalid type for '{param}': {message}");

    [Theory]
    [InlineData("""{"prompt": 5}""", "prompt", "expected one of a string, array of strings, array of integers or array of integer arrays, but got an integer instead")]
    [InlineData("""{"prompt": [1, "a"]}""", "prompt[1]", "expected an integer, but got a string instead")]
    [InlineData("""{"prompt": ["a", 1]}""", "prompt[1]", "expected a string, but got an integer instead")]
    [InlineData("""{"prompt": [[1], [2.5]]}""", "prompt[1][0]", "expected an integer, but got a number instead")]
    [InlineData("""{"prompt": [[1], 2]}""", "prompt[1]", "expected an array of integers, but got an integer instead")]
    [InlineData("""{"prompt": [{}]}""", "prompt[0]", "expected one of a string, integer or array of integers, but got an object instead")]
    [InlineData("""{"logprobs": true}""", "logprobs", "expected an integer, but got a boolean instead")]
    public void WrongCompletionTypesNameTheParameter(string body, string param, string message) =>
        Requests.AssertError(
            RequestParser.Parse(Encoding.UTF8.GetBytes(body), Json.CompletionRequest), 400, param, "invalid_type", $"Invalid type for '{param}': {message}");

    [Theory]
    [InlineData("""{"model": "\ud800"}""", "model", "the string is not valid Unicode")]
    [InlineData("""{"max_tokens": 99999999999}""", "max_tokens", "the number is out of range")]
    public void RightTypeButUnreadableValue(string body, string param, string message) =>
        Requests.AssertError(Parse(body), 400, param, "invalid_value", $"Invalid value for '{param}': {message}");

    [Fact]
    public void TokenIdOutOfIntRange() =>
        Requests.AssertError(
            RequestParser.Parse("""{"prompt": [1, 4294967296]}"""u8, Json.CompletionRequest),
            400, "prompt[1]", "invalid_value", "Invalid value for 'prompt[1]': the number is out of range");

    [Fact]
    public void ValidBodyParses()
    {
        var request = Requests.Valid(Parse(Requests.Chat("\"temperature\": 0")));
        Assert.Equal(0, request.Temperature);
    }

    private static ProtocolResult<ChatCompletionRequest> Parse(string body) =>
        RequestParser.Parse(Encoding.UTF8.GetBytes(body), Json.ChatCompletionRequest);
}
