using ServerV3.Engine.Sampling;
using ServerV3.Engine.Scheduling;

namespace ServerV3.Engine.Runtime;

/// <summary>
/// One generated token of a request, or its end. The last event carries the finish reason; an aborted request's
/// last event has no token (TokenId -1).
/// </summary>
public sealed record TokenEvent(int TokenId, TokenLogprobs? Logprobs, FinishReason? Finish)
{
    /// <summary>Set on the last event.</summary>
    public RequestStats? Stats { get; init; }

    public bool HasToken => TokenId >= 0;
}
