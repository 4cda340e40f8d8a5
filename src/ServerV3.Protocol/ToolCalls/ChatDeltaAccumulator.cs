using System.Text;

namespace ServerV3.Protocol;

/// <summary>Adds streamed deltas up into the content and tool calls of a whole message, as clients do.</summary>
internal sealed class ChatDeltaAccumulator
{
    private readonly StringBuilder _content = new();
    private readonly List<(string Id, string Name, StringBuilder Arguments)> _toolCalls = [];

    public void Add(ChatCompletionDelta? delta)
    {
        if (delta is null) return;
        _content.Append(delta.Content);
        foreach (var call in delta.ToolCalls ?? [])
        {
            if (call.Index == _toolCalls.Count) _toolCalls.Add((call.Id!, call.Function!.Name!, new StringBuilder()));
            _toolCalls[call.Index].Arguments.Append(call.Function?.Arguments);
        }
    }

    public ParsedToolCalls ToResult() => new(
        _content.ToString(),
        [.. _toolCalls.Select(call => new ToolCall { Id = call.Id, Function = new FunctionCall(call.Name, call.Arguments.ToString()) })]);
}
