using System.CommandLine;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using ServerV3.Server.Benchmarking;
using static ServerV3.Server.Cli.UsageException;

namespace ServerV3.Server.Cli;

/// <summary>`serverv3 bench-serve`: throughput and latencies of a running server under concurrent streaming clients.</summary>
public static class BenchServeCommand
{
    /// <summary>
    /// Text whose token ids the prompts are drawn from, so that every id is one of the served model's own (the client
    /// knows no vocabulary); each prompt is an independent random draw, so prompts share no prefix, as in vLLM's
    /// random dataset.
    /// </summary>
    private const string SourceText =
        "In the beginning the engineers built a server that answered every request with tokens streamed as they were " +
        "decoded. Batches grew and shrank with the traffic; experts were routed, caches were paged, and drafts were " +
        "verified. Measure twice, cut once: latency at the first token, the gap between tokens, and the time a whole " +
        "answer takes. Quick brown foxes jump over lazy dogs while seventeen zebras quietly examine wax puzzles, " +
        "numbers 0123456789, punctuation (;:!?), and words from science, law, music, cooking, history and sport.";

    public static Command Create(TextWriter output)
    {
        var url = new Option<string>("--url") { Description = "Base address of a running server, e.g. http://127.0.0.1:8000", Required = true };
        var model = new Option<string?>("--model") { Description = "Model id to request (default: the first of the server's /v1/models)" };
        var apiKey = new Option<string?>("--api-key") { Description = "Bearer key of a server that requires one (default: $OPENAI_API_KEY, as the OpenAI clients)" };
        var concurrency = new Option<int[]>("--concurrency") { Description = "Most requests in flight, one run per value", DefaultValueFactory = _ => [1, 8, 16], AllowMultipleArgumentsPerToken = true };
        var requestRate = new Option<double>("--request-rate") { Description = "Mean requests per second, Poisson arrivals (default: all at once, each client sending its next when its last ends)", DefaultValueFactory = _ => double.PositiveInfinity };
        var requests = new Option<int>("--requests") { Description = "Requests per run", DefaultValueFactory = _ => 32 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length of every request, in tokens", DefaultValueFactory = _ => 128 };
        var genTokens = new Option<int>("--gen-tokens") { Description = "Tokens generated per request (ignore_eos)", DefaultValueFactory = _ => 64 };
        var seed = new Option<int>("--seed") { Description = "Seed of the random prompts", DefaultValueFactory = _ => 0 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file" };
        var command = new Command("bench-serve", "Measure a running server's throughput and latencies under concurrent streaming requests")
        {
            url, model, apiKey, concurrency, requestRate, requests, promptTokens, genTokens, seed, json,
        };
        command.SetAction(async (result, cancellation) =>
        {
            if (!Uri.TryCreate(result.GetValue(url), UriKind.Absolute, out var address) || address.Scheme is not ("http" or "https"))
                throw new UsageException($"--url must be an absolute http(s) address, got '{result.GetValue(url)}'");
            var levels = result.GetValue(concurrency)!;
            if (levels.Length == 0 || levels.Any(c => c < 1)) throw new UsageException("--concurrency values must be positive");
            int count = Positive(result.GetValue(requests), "--requests"), prompt = Positive(result.GetValue(promptTokens), "--prompt-tokens");
            int gen = Positive(result.GetValue(genTokens), "--gen-tokens");
            double rate = Positive(result.GetValue(requestRate), "--request-rate");
            using var http = new HttpClient { BaseAddress = new Uri(address.AbsoluteUri.TrimEnd('/') + "/"), Timeout = Timeout.InfiniteTimeSpan };
            if ((result.GetValue(apiKey) ?? Environment.GetEnvironmentVariable("OPENAI_API_KEY")) is { Length: > 0 } key)
                http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            string name = result.GetValue(model) ?? await ServedModelAsync(http, cancellation);
            var vocabulary = await VocabularyAsync(http, name, cancellation);
            var benchmark = new ServingBenchmark(http, name);
            // Warm-up: JIT on both sides and first touch of the engine's buffers.
            await benchmark.SendAsync([.. vocabulary.Take(8)], 2, cancellation);
            var random = new Random(result.GetValue(seed));
            var results = new List<ServingResult>();
            foreach (int level in levels)
            {
                var prompts = Enumerable.Range(0, count).Select(_ => Enumerable.Range(0, prompt).Select(_ => vocabulary[random.Next(vocabulary.Count)]).ToArray()).ToList();
                var r = await benchmark.RunAsync(prompts, level, gen, rate, random, cancellation);
                results.Add(r);
                Print(r, output);
            }
            if (result.GetValue(json) is { } file)
                await File.WriteAllTextAsync(file.FullName, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }), cancellation);
            return results.All(r => r.Failed == 0) ? 0 : 1;
        });
        return command;
    }

    private static async Task<string> ServedModelAsync(HttpClient http, CancellationToken cancellation)
    {
        var models = await JsonAsync(http, "v1/models", () => http.GetAsync("v1/models", cancellation), cancellation);
        return models["data"]?[0]?["id"]?.GetValue<string>() ?? throw new UsageException($"{http.BaseAddress}v1/models lists no model");
    }

    /// <summary>The distinct ids of <see cref="SourceText"/> in the served model's tokenizer (vLLM's POST /tokenize).</summary>
    private static async Task<IReadOnlyList<int>> VocabularyAsync(HttpClient http, string model, CancellationToken cancellation)
    {
        var request = new JsonObject { ["model"] = model, ["prompt"] = SourceText, ["add_special_tokens"] = false };
        var response = await JsonAsync(http, "tokenize", () => http.PostAsJsonAsync("tokenize", request, cancellation), cancellation);
        var ids = response["tokens"]?.AsArray().Select(t => t!.GetValue<int>()).Distinct().ToList() ?? [];
        return ids.Count > 0 ? ids : throw new UsageException($"{http.BaseAddress}tokenize returned no tokens");
    }

    /// <summary>
    /// A JSON object from the server; an address that cannot be reached or that refuses the call (a wrong --url or
    /// --api-key) is the caller's mistake, reported as such.
    /// </summary>
    private static async Task<JsonObject> JsonAsync(HttpClient http, string path, Func<Task<HttpResponseMessage>> send, CancellationToken cancellation)
    {
        HttpResponseMessage reply;
        try
        {
            reply = await send();
        }
        catch (HttpRequestException e)
        {
            throw new UsageException($"cannot reach {http.BaseAddress}: {e.Message}");
        }
        using (reply)
        {
            if (!reply.IsSuccessStatusCode)
                throw new UsageException($"{http.BaseAddress}{path} answered {(int)reply.StatusCode}: {await reply.Content.ReadAsStringAsync(cancellation)}");
            return await reply.Content.ReadFromJsonAsync<JsonObject>(cancellation) ?? throw new UsageException($"{http.BaseAddress}{path} answered null");
        }
    }

    private static void Print(ServingResult r, TextWriter output)
    {
        string arrivals = r.RequestRate is { } perSecond ? $", {perSecond:G4} requests/s arriving" : "";
        output.WriteLine($"concurrency {r.Concurrency,3}{arrivals}: {r.Completed} of {r.Requests} requests in {r.Seconds:F1} s: {r.RequestsPerSecond:F2} requests/s, " +
            $"{r.OutputTokensPerSecond:F1} output tokens/s, {r.TotalTokensPerSecond:F1} total tokens/s");
        output.WriteLine($"  TTFT ms  {r.TimeToFirstToken}");
        output.WriteLine($"  TPOT ms  {r.TimePerOutputToken}");
        output.WriteLine($"  ITL ms   {r.InterTokenLatency}");
        output.WriteLine($"  E2E ms   {r.EndToEnd}");
        foreach (string error in r.Errors) output.WriteLine($"  failed: {error}");
    }
}
