namespace ServerV3.Protocol;

/// <summary>
/// Parses DeepSeek-V3 tool calls out of one choice's streamed text. Each <see cref="Push"/> returns
/// the OpenAI delta for the text so far (or null when there is nothing to send yet): content until
/// the calls begin, then per call a first entry with index, id, type and name, then argument text.
/// Text that could be the start of a marker is held back, never sent as content or arguments; the
/// closing <c>```</c> fence is trimmed from arguments. Text between and after calls is dropped.
/// Call <see cref="Finish"/> at the end of generation to release what was held back.
/// </summary>
public sealed class ToolCallStreamParser
{
    private string _pending = "";
    private State _state = State.Content;
    private int _callCount;
    private bool _argumentsStarted;

    private enum State
    {
        Content,
        BetweenCalls,
        CallType,
        CallName,
        Fence,
        Arguments,
        Done,
    }

    /// <summary>Whether a tool call has started (finish_reason becomes "tool_calls").</summary>
    public bool HasToolCalls => _callCount > 0;

    public ChatCompletionDelta? Push(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        _pending += text;
        return Advance(endOfText: false);
    }

    /// <summary>Ends the text: held-back content is released, an unfinished call keeps the arguments it has.</summary>
    public ChatCompletionDelta? Finish()
    {
        var delta = Advance(endOfText: true);
        _pending = "";
        _state = State.Done;
        return delta;
    }

    private ChatCompletionDelta? Advance(bool endOfText)
    {
        var delta = new ChatDeltaBuilder();
        while (Step(delta, endOfText))
        {
        }
        return delta.Build();
    }

    /// <summary>Consumes what the current state can; false when it needs more text.</summary>
    private bool Step(ChatDeltaBuilder delta, bool endOfText)
    {
        switch (_state)
        {
            case State.Content:
                if (MarkerSearch.FindFirst(_pending, DeepSeekToolCallFormat.Starts) is { } start)
                {
                    delta.AddContent(_pending[..start.Index]);
                    Consume(start.End, start.Marker == DeepSeekToolCallFormat.CallsBegin ? State.BetweenCalls : State.CallType);
                    return true;
                }
                delta.AddContent(HoldBackPartialMarker(DeepSeekToolCallFormat.Starts, endOfText));
                return false;

            case State.BetweenCalls:
                if (MarkerSearch.FindFirst(_pending, DeepSeekToolCallFormat.AfterCall) is { } next)
                {
                    Consume(next.End, next.Marker == DeepSeekToolCallFormat.CallBegin ? State.CallType : State.Done);
                    return true;
                }
                HoldBackPartialMarker(DeepSeekToolCallFormat.AfterCall, endOfText);
                return false;

            case State.CallType:
                var separator = _pending.IndexOf(DeepSeekToolCallFormat.Separator, StringComparison.Ordinal);
                if (separator < 0) return false;
                Consume(separator + DeepSeekToolCallFormat.Separator.Length, State.CallName);
                return true;

            case State.CallName:
                var newline = _pending.IndexOf('\n', StringComparison.Ordinal);
                if (newline < 0) return false;
                delta.StartToolCall(_callCount++, ResponseIds.NewToolCallId(), _pending[..newline].Trim());
                Consume(newline + 1, State.Fence);
                return true;

            case State.Fence:
                _pending = _pending.TrimStart();
                if (_pending.StartsWith(DeepSeekToolCallFormat.ArgumentsFence, StringComparison.Ordinal))
                {
                    Consume(DeepSeekToolCallFormat.ArgumentsFence.Length, State.Arguments);
                    return true;
                }
                if (!endOfText && DeepSeekToolCallFormat.ArgumentsFence.StartsWith(_pending, StringComparison.Ordinal)) return false;
                _state = State.Arguments;
                return true;

            case State.Arguments:
                if (!_argumentsStarted) _pending = _pending.TrimStart();
                if (MarkerSearch.FindFirst(_pending, DeepSeekToolCallFormat.ArgumentsEnd) is { } end)
                {
                    delta.AddArguments(_callCount - 1, _pending[..end.Index].TrimEnd(DeepSeekToolCallFormat.ArgumentsTrailer));
                    _argumentsStarted = false;
                    Consume(end.End, State.BetweenCalls);
                    return true;
                }
                // The fence and whitespace may be the end of the arguments: wait for what follows them.
                var hold = MarkerSearch.PartialSuffixLength(_pending, DeepSeekToolCallFormat.ArgumentsEnd);
                var arguments = _pending[..^hold].TrimEnd(DeepSeekToolCallFormat.ArgumentsTrailer);
                delta.AddArguments(_callCount - 1, arguments);
                _argumentsStarted |= arguments.Length > 0;
                _pending = _pending[arguments.Length..];
                return false;

            default:
                _pending = "";
                return false;
        }
    }

    /// <summary>Keeps only the end of the pending text that could start one of <paramref name="markers"/>; returns the rest.</summary>
    private string HoldBackPartialMarker(string[] markers, bool endOfText)
    {
        var hold = endOfText ? 0 : MarkerSearch.PartialSuffixLength(_pending, markers);
        var released = _pending[..^hold];
        _pending = _pending[^hold..];
        return released;
    }

    private void Consume(int length, State next)
    {
        _pending = _pending[length..];
        _state = next;
    }
}
