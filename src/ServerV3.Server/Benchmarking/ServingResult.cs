using System.Text.Json.Serialization;

namespace ServerV3.Server.Benchmarking;

/// <summary>One concurrency level of `serverv3 bench-serve`: throughput over the run and the latencies of its requests.</summary>
public sealed record ServingResult
{
    /// <summary>Most requests in flight.</summary>
    [JsonPropertyName("concurrency")] public required int Concurrency { get; init; }
    /// <summary>Mean arrivals per second, or null for all at once (an infinite rate).</summary>
    [JsonPropertyName("request_rate")] public required double? RequestRate { get; init; }
    [JsonPropertyName("requests")] public required int Requests { get; init; }
    [JsonPropertyName("completed")] public required int Completed { get; init; }
    [JsonPropertyName("failed")] public required int Failed { get; init; }
    [JsonPropertyName("seconds")] public required double Seconds { get; init; }
    [JsonPropertyName("prompt_tokens")] public required long PromptTokens { get; init; }
    [JsonPropertyName("output_tokens")] public required long OutputTokens { get; init; }
    [JsonPropertyName("requests_per_s")] public required double RequestsPerSecond { get; init; }
    [JsonPropertyName("output_tokens_per_s")] public required double OutputTokensPerSecond { get; init; }
    [JsonPropertyName("total_tokens_per_s")] public required double TotalTokensPerSecond { get; init; }
    /// <summary>Time to first token.</summary>
    [JsonPropertyName("ttft_ms")] public required LatencySummary TimeToFirstToken { get; init; }
    /// <summary>Time per output token after the first, one value per request.</summary>
    [JsonPropertyName("tpot_ms")] public required LatencySummary TimePerOutputToken { get; init; }
    /// <summary>Gaps between consecutive text events of a stream, over every request.</summary>
    [JsonPropertyName("itl_ms")] public required LatencySummary InterTokenLatency { get; init; }
    [JsonPropertyName("e2e_ms")] public required LatencySummary EndToEnd { get; init; }
    /// <summary>The first few failures' messages.</summary>
    [JsonPropertyName("errors")] public required IReadOnlyList<string> Errors { get; init; }

    public static ServingResult From(int concurrency, double requestRate, IReadOnlyList<int[]> prompts, IReadOnlyList<RequestTiming?> timings, IReadOnlyList<string> errors, double seconds)
    {
        var done = Enumerable.Range(0, prompts.Count).Where(i => timings[i] is not null).ToList();
        long promptTokens = done.Sum(i => (long)prompts[i].Length), outputTokens = done.Sum(i => (long)timings[i]!.OutputTokens);
        return new ServingResult
        {
            Concurrency = concurrency,
            RequestRate = double.IsFinite(requestRate) ? requestRate : null,
            Requests = prompts.Count,
            Completed = done.Count,
            Failed = prompts.Count - done.Count,
            Seconds = seconds,
            PromptTokens = promptTokens,
            OutputTokens = outputTokens,
            RequestsPerSecond = done.Count / seconds,
            OutputTokensPerSecond = outputTokens / seconds,
            TotalTokensPerSecond = (promptTokens + outputTokens) / seconds,
            TimeToFirstToken = LatencySummary.Of(done.Select(i => timings[i]!.FirstTokenMilliseconds)),
            TimePerOutputToken = LatencySummary.Of(done.Select(i => timings[i]!.TimePerOutputTokenMilliseconds).OfType<double>()),
            InterTokenLatency = LatencySummary.Of(done.SelectMany(i => timings[i]!.TokenGapsMilliseconds)),
            EndToEnd = LatencySummary.Of(done.Select(i => timings[i]!.EndMilliseconds)),
            Errors = errors.Take(5).ToList(),
        };
    }
}
