namespace ServerV3.Server.Benchmarking;

/// <summary>
/// One streamed request as its client saw it: time to the first event carrying text, the gaps between later text
/// events, the end of the stream (all in milliseconds from sending), and the output tokens the server's usage reports.
/// </summary>
public sealed record RequestTiming(double FirstTokenMilliseconds, double EndMilliseconds, int OutputTokens, IReadOnlyList<double> TokenGapsMilliseconds)
{
    /// <summary>Time per output token after the first (vLLM's TPOT); none for a single-token answer.</summary>
    public double? TimePerOutputTokenMilliseconds =>
        OutputTokens > 1 ? (EndMilliseconds - FirstTokenMilliseconds) / (OutputTokens - 1) : null;
}
