using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Net.ServerSentEvents;
using System.Text.Json;

namespace ServerV3.Server.Benchmarking;

/// <summary>
/// Online serving against a running server, as vLLM's `vllm bench serve`: streaming /v1/completions requests (token-id
/// prompt, greedy, ignore_eos, usage in the stream) arrive as a Poisson process of the given rate, or all at once when
/// the rate is infinite, and at most C are in flight (--max-concurrency): with an infinite rate, C clients each send
/// their next request as soon as their last one has ended. What a request measures is in <see cref="RequestTiming"/>:
/// the first event that carries text is the first token, as in vLLM's benchmark.
/// </summary>
public sealed class ServingBenchmark(HttpClient http, string model)
{
    /// <param name="requestRate">Mean arrivals per second (exponential gaps drawn from <paramref name="random"/>), or infinity.</param>
    public async Task<ServingResult> RunAsync(
        IReadOnlyList<int[]> prompts, int concurrency, int genTokens, double requestRate, Random random, CancellationToken cancellation = default)
    {
        var timings = new RequestTiming?[prompts.Count];
        var errors = new ConcurrentQueue<string>();
        using var slots = new SemaphoreSlim(concurrency);
        var requests = new List<Task>(prompts.Count);
        var clock = Stopwatch.StartNew();
        async Task RequestAsync(int i)
        {
            try
            {
                timings[i] = await SendAsync(prompts[i], genTokens, cancellation);
            }
            catch (Exception e) when (e is HttpRequestException or InvalidDataException or JsonException or IOException)
            {
                errors.Enqueue(e.Message);
            }
            finally
            {
                slots.Release();
            }
        }
        for (int i = 0; i < prompts.Count; i++)
        {
            if (i > 0 && double.IsFinite(requestRate))
                await Task.Delay(TimeSpan.FromSeconds(-Math.Log(1 - random.NextDouble()) / requestRate), cancellation);
            await slots.WaitAsync(cancellation);
            int request = i;
            requests.Add(Task.Run(() => RequestAsync(request), cancellation));
        }
        await Task.WhenAll(requests);
        return ServingResult.From(concurrency, requestRate, prompts, timings, [.. errors], clock.Elapsed.TotalSeconds);
    }

    /// <summary>One streamed completion, timed from sending the request.</summary>
    public async Task<RequestTiming> SendAsync(int[] prompt, int genTokens, CancellationToken cancellation = default)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "v1/completions") { Content = new ByteArrayContent(Body(prompt, genTokens)) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        long start = Stopwatch.GetTimestamp();
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellation);
        if (!response.IsSuccessStatusCode)
            throw new HttpRequestException($"HTTP {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellation)}");
        await using var stream = await response.Content.ReadAsStreamAsync(cancellation);
        double? first = null;
        double last = 0;
        int outputTokens = -1;
        var gaps = new List<double>();
        await foreach (var item in SseParser.Create(stream).EnumerateAsync(cancellation))
        {
            if (item.Data == "[DONE]") break;
            double at = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            using var chunk = JsonDocument.Parse(item.Data);
            var root = chunk.RootElement;
            if (root.TryGetProperty("error", out var error)) throw new InvalidDataException($"the stream reported an error: {error}");
            if (root.TryGetProperty("usage", out var usage) && usage.ValueKind == JsonValueKind.Object)
                outputTokens = usage.GetProperty("completion_tokens").GetInt32();
            if (root.GetProperty("choices") is { ValueKind: JsonValueKind.Array } choices && choices.GetArrayLength() > 0
                && choices[0].GetProperty("text").GetString() is { Length: > 0 })
            {
                if (first is null) first = at;
                else gaps.Add(at - last);
                last = at;
            }
        }
        double end = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
        if (first is null || outputTokens < 0) throw new InvalidDataException("the stream ended without text or without usage");
        return new RequestTiming(first.Value, end, outputTokens, gaps);
    }

    private byte[] Body(int[] prompt, int genTokens)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("model", model);
            json.WriteStartArray("prompt");
            foreach (int id in prompt) json.WriteNumberValue(id);
            json.WriteEndArray();
            json.WriteNumber("max_tokens", genTokens);
            json.WriteNumber("temperature", 0);
            json.WriteBoolean("ignore_eos", true);
            json.WriteBoolean("stream", true);
            json.WriteStartObject("stream_options");
            json.WriteBoolean("include_usage", true);
            json.WriteEndObject();
            json.WriteEndObject();
        }
        return buffer.ToArray();
    }
}
