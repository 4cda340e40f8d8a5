using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;
using ServerV3.Server.Tests.Http;

namespace ServerV3.Server.Tests.Telemetry;

/// <summary>A real Prometheus (Debian package `prometheus`, installed by .ci/run) scrapes /metrics after a known workload.</summary>
public sealed class PrometheusScrapeTests
{
    private static readonly string[] Prompts = ["In the beginning", "And the LORD said unto Moses", "Blessed are the"];

    [Fact]
    public async Task PrometheusSeesTheWorkload()
    {
        await using var server = await TestServer.StartAsync();
        int promptTokens = 0, requests = 0;
        foreach (string prompt in Prompts)
        {
            using var response = await server.Http.PostAsync("/v1/completions", Json(new { prompt, max_tokens = 6, temperature = 0 }));
            var usage = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("usage");
            promptTokens += usage.GetProperty("prompt_tokens").GetInt32();
            requests++;
        }
        using var streamed = await server.Http.PostAsync("/v1/chat/completions", Json(new { messages = new[] { new { role = "user", content = "Amen" } }, max_tokens = 4, stream = true }));
        await streamed.Content.ReadAsStringAsync();
        promptTokens += (int)server.Model.Served!.Services.Tokenizer.Encode(
            server.Model.Served.Services.ChatTemplate!.BuildPrompt([new ServerV3.Tokenization.ChatMessage("user", "Amen")]), addSpecialTokens: false).Count;
        requests++;

        // promtool lints ServerV3's own families; the runtime/process instrumentation's `*_count` gauges are OpenTelemetry's naming.
        string exposition = string.Join('\n', (await server.Http.GetStringAsync("/metrics")).Split('\n')
            .Where(line => line.StartsWith("serverv3_", StringComparison.Ordinal) || line.StartsWith("# HELP serverv3_", StringComparison.Ordinal)
                || line.StartsWith("# TYPE serverv3_", StringComparison.Ordinal) || line.StartsWith("# UNIT serverv3_", StringComparison.Ordinal))) + "\n";
        Assert.Contains("serverv3_kv_cache_usage_perc", exposition);
        var (checkCode, checkOutput) = await RunAsync("promtool", ["check", "metrics"], exposition);
        Assert.True(checkCode == 0, checkOutput);

        string directory = Directory.CreateTempSubdirectory("serverv3-prometheus-").FullName;
        int port = FreePort();
        File.WriteAllText(Path.Combine(directory, "prometheus.yml"), $"""
            global:
              scrape_interval: 1s
            scrape_configs:
              - job_name: serverv3
                static_configs:
                  - targets: ["{server.BaseAddress.Authority}"]
            """);
        using var prometheus = Process.Start(new ProcessStartInfo("prometheus",
            [$"--config.file={directory}/prometheus.yml", $"--storage.tsdb.path={directory}/data", $"--web.listen-address=127.0.0.1:{port}"])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        })!;
        try
        {
            using var api = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.Equal(promptTokens, await QueryAsync(api, "sum(serverv3_prompt_tokens_total)"));
            Assert.Equal(requests, await QueryAsync(api, "sum(serverv3_time_to_first_token_seconds_count)"));
            Assert.Equal(requests, await QueryAsync(api, "sum(serverv3_request_success_total)"));
            Assert.Equal(3 * 6 + 4, await QueryAsync(api, "sum(serverv3_generation_tokens_total)"));
            Assert.Equal(0, await QueryAsync(api, "sum(serverv3_num_requests_running)"));
            Assert.True(await QueryAsync(api, "sum(serverv3_engine_step_duration_seconds_count)") > 0);
            // Expert load: every (token, expert) assignment the model computed, and only those.
            long assignments = server.Model.Served.Services.Model.Model.Experts.LoadSnapshot().TotalAssignments;
            Assert.True(assignments > 0);
            Assert.Equal(assignments, await QueryAsync(api, "sum(serverv3_expert_assignments_total)"));
            Assert.Equal(1, await QueryAsync(api, "max(serverv3_expert_load_imbalance)"));
        }
        finally
        {
            prometheus.Kill();
            await prometheus.WaitForExitAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Polls Prometheus's HTTP API until the query has a value (the first scrapes take a moment).</summary>
    private static async Task<double> QueryAsync(HttpClient api, string query)
    {
        for (int attempt = 0; attempt < 100; attempt++)
        {
            try
            {
                var body = await api.GetStringAsync($"/api/v1/query?query={Uri.EscapeDataString(query)}");
                var result = JsonDocument.Parse(body).RootElement.GetProperty("data").GetProperty("result");
                if (result.GetArrayLength() > 0) return double.Parse(result[0].GetProperty("value")[1].GetString()!, CultureInfo.InvariantCulture);
            }
            catch (HttpRequestException)
            {
                // Prometheus is still starting.
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"Prometheus has no value for {query}");
    }

    private static StringContent Json(object value) => new(JsonSerializer.Serialize(value), Encoding.UTF8, "application/json");

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, string[] arguments, string input)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true })!;
        await process.StandardInput.WriteAsync(input);
        process.StandardInput.Close();
        string output = await process.StandardOutput.ReadToEndAsync() + await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, output);
    }
}
