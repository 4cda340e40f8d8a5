using System.Text;

namespace ServerV3.Protocol;

/// <summary>Collects what one parser step produced into a single delta, merging argument text per call.</summary>
internal sealed class ChatDeltaBuilder
{
    private readonly StringBuilder _content = new();
    private readonly List<ToolCallDelta> _toolCalls = [];

    public void AddContent(string text) => _content.Append(text);

    public void StartToolCall(int index, string id, string name) =>
        _toolCalls.Add(new ToolCallDelta { Index = index, Id = id, Type = "function", Function = new FunctionCallDelta { Name = name, Arguments = "" } });

    public void AddArguments(int index, string text)
    {
        if (text.Length == 0) return;
        if (_toolCalls.Count > 0 && _toolCalls[^1] is { Function: { } function } last && last.Index == index)
            _toolCalls[^1] = last with { Function = function with { Arguments = function.Arguments + text } };
        else
            _toolCalls.Add(new ToolCallDelta { Index = index, Function = new FunctionCallDelta { Arguments = text } });
    }

    public ChatCompletionDelta? Build() =>
        _content.Length == 0 && _toolCalls.Count == 0
            ? null
            : new ChatCompletionDelta
            {
                Content = _content.Length == 0 ? null : _content.ToString(),
                ToolCalls = _toolCalls.Count == 0 ? null : _toolCalls,
            };
}
