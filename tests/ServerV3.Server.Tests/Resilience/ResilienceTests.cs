using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ServerV3.Server.Resilience;
using ServerV3.Server.Tests.Http;

namespace ServerV3.Server.Tests.Resilience;

/// <summary>Admission control, the engine circuit breaker, graceful drain and API keys on a real server.</summary>
public sealed class ResilienceTests
{
    private static HttpRequestMessage Post(string path, object body) =>
        new(HttpMethod.Post, path) { Content = new StringContent(JsonSerializer.Serialize(body), Encoding.UTF8, "application/json") };

    private static object Stream(int maxTokens) => new { prompt = "And the LORD said unto Moses", max_tokens = maxTokens, stream = true, temperature = 0 };

    [Fact]
    public async Task BeyondTheAdmissionLimitClientsGet429AndTheAdmittedOnesComplete()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["MaxConcurrentRequests"] = "2", ["MaxQueuedRequests"] = "2" });
        var engine = server.Model.Served!.Services.Engine;
        long before = GC.GetTotalMemory(forceFullCollection: true);
        // 5x the admission limit (2 running + 2 queued), all streaming at once.
        var clients = Enumerable.Range(0, 20).Select(async _ =>
        {
            var started = DateTime.UtcNow;
            using var response = await server.Http.SendAsync(Post("/v1/completions", Stream(24)));
            string body = await response.Content.ReadAsStringAsync();
            return (response.StatusCode, Body: body, Seconds: (DateTime.UtcNow - started).TotalSeconds, RetryAfter: response.Headers.RetryAfter);
        }).ToArray();
        var results = await Task.WhenAll(clients);
        var rejected = results.Where(r => r.StatusCode == HttpStatusCode.TooManyRequests).ToArray();
        var admitted = results.Where(r => r.StatusCode == HttpStatusCode.OK).ToArray();
        Assert.Equal(20, rejected.Length + admitted.Length);
        Assert.InRange(admitted.Length, 4, 19);
        Assert.NotEmpty(rejected);
        Assert.All(rejected, r =>
        {
            Assert.NotNull(r.RetryAfter);
            Assert.Contains("\"error\"", r.Body);
        });
        Assert.All(admitted, r => Assert.EndsWith("data: [DONE]\n\n", r.Body));
        Assert.True(rejected.Max(r => r.Seconds) < admitted.Max(r => r.Seconds), "rejections come before the admitted requests finish");
        for (int i = 0; i < 100 && engine.Counters.NumFreeBlocks != engine.Counters.NumBlocks; i++) await Task.Delay(20);
        Assert.Equal(engine.Counters.NumBlocks, engine.Counters.NumFreeBlocks);
        Assert.True(GC.GetTotalMemory(forceFullCollection: true) - before < 64L << 20, "memory stays bounded");
    }

    [Fact]
    public async Task EngineFaultsFailFastThenTheBreakerClosesAgain()
    {
        // Engine steps 0 to 5 fail; the breaker opens after two failures and lets a trial through after 1 s.
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["FaultSteps"] = "0-5", ["BreakDurationSeconds"] = "1" });
        var circuit = server.App.Services.GetRequiredService<CircuitState>();
        using (var first = await server.Http.SendAsync(Post("/v1/completions", new { prompt = "Amen", max_tokens = 4 })))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, first.StatusCode);
            Assert.Contains("injected fault", await first.Content.ReadAsStringAsync());
        }
        using (var streamed = await server.Http.SendAsync(Post("/v1/completions", Stream(4))))
        {
            string body = await streamed.Content.ReadAsStringAsync();
            Assert.Contains("\"error\"", body); // an SSE error event, then [DONE]
            Assert.EndsWith("data: [DONE]\n\n", body);
        }
        Assert.True(circuit.IsOpen);
        using (var fast = await server.Http.SendAsync(Post("/v1/completions", new { prompt = "Amen", max_tokens = 4 })))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, fast.StatusCode);
            Assert.Contains("retry later", await fast.Content.ReadAsStringAsync());
        }
        Assert.Equal(HttpStatusCode.ServiceUnavailable, (await server.Http.GetAsync("/ready")).StatusCode);
        // Trials after the break hit the remaining faulty steps, then the engine recovers and the breaker closes.
        HttpStatusCode status = HttpStatusCode.ServiceUnavailable;
        for (int attempt = 0; attempt < 20 && status != HttpStatusCode.OK; attempt++)
        {
            await Task.Delay(1100);
            using var trial = await server.Http.SendAsync(Post("/v1/completions", new { prompt = "Amen", max_tokens = 4 }));
            status = trial.StatusCode;
        }
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.False(circuit.IsOpen);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/ready")).StatusCode);
    }

    [Fact]
    public async Task ShutdownEndsEveryStreamWithAFinishChunk()
    {
        var server = await TestServer.StartAsync(new Dictionary<string, string> { ["DrainTimeoutSeconds"] = "1" });
        var streams = Enumerable.Range(0, 10).Select(async i =>
        {
            using var response = await server.Http.SendAsync(Post("/v1/completions", Stream(i < 5 ? 8 : 900)), HttpCompletionOption.ResponseHeadersRead);
            return await response.Content.ReadAsStringAsync();
        }).ToArray();
        await Task.Delay(1500);
        var stopping = server.App.Services.GetRequiredService<IHostApplicationLifetime>();
        var stop = server.App.StopAsync();
        using (var refused = await new HttpClient().SendAsync(Post(new Uri(server.BaseAddress, "/v1/completions").ToString(), new { prompt = "Amen", max_tokens = 2 }))
            .ContinueWith(t => t.IsCompletedSuccessfully ? t.Result : null))
        {
            // Either refused with 503 while draining, or the listener is already closed.
            if (refused is not null) Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        }
        var bodies = await Task.WhenAll(streams);
        await stop;
        Assert.True(stopping.ApplicationStopping.IsCancellationRequested);
        foreach (string body in bodies)
        {
            Assert.EndsWith("data: [DONE]\n\n", body);
            var events = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[..^1];
            // Every event is complete JSON, and the last choice event carries a finish reason.
            var chunks = events.Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToArray();
            var finish = chunks.Last(c => c.GetProperty("choices").GetArrayLength() > 0).GetProperty("choices")[0].GetProperty("finish_reason");
            Assert.Contains(finish.GetString(), new[] { "length", "abort" });
        }
        await server.DisposeAsync();
    }

    [Fact]
    public async Task TheTotalTimeoutEndsARequestCleanly()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["RequestTimeoutSeconds"] = "1" });
        var engine = server.Model.Served!.Services.Engine;
        using var response = await server.Http.SendAsync(Post("/v1/completions", Stream(900)));
        string body = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("data: [DONE]\n\n", body);
        var chunks = body.Split("\n\n", StringSplitOptions.RemoveEmptyEntries)[..^1].Select(e => JsonDocument.Parse(e["data: ".Length..]).RootElement).ToArray();
        Assert.Equal("length", chunks[^1].GetProperty("choices")[0].GetProperty("finish_reason").GetString());
        Assert.InRange(chunks.Length, 2, 899); // cut short by the timeout, not by max_tokens
        for (int i = 0; i < 100 && engine.Counters.NumFreeBlocks != engine.Counters.NumBlocks; i++) await Task.Delay(20);
        Assert.Equal(engine.Counters.NumBlocks, engine.Counters.NumFreeBlocks);
    }

    [Fact]
    public async Task ApiKeysAreRequiredWhereConfigured()
    {
        await using var server = await TestServer.StartAsync(new Dictionary<string, string> { ["ApiKey"] = "sekret" });
        using (var missing = await server.Http.SendAsync(Post("/v1/completions", new { prompt = "Amen", max_tokens = 1 })))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, missing.StatusCode);
            Assert.Equal("invalid_request_error", JsonDocument.Parse(await missing.Content.ReadAsStringAsync()).RootElement.GetProperty("error").GetProperty("type").GetString());
        }
        var wrong = Post("/v1/completions", new { prompt = "Amen", max_tokens = 1 });
        wrong.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "guess");
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.SendAsync(wrong)).StatusCode);
        var right = Post("/v1/completions", new { prompt = "Amen", max_tokens = 1 });
        right.Headers.Authorization = new AuthenticationHeaderValue("Bearer", "sekret");
        Assert.Equal(HttpStatusCode.OK, (await server.Http.SendAsync(right)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/health")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await server.Http.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await server.Http.GetAsync("/v1/models")).StatusCode);
    }
}
