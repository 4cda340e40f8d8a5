using System.Text.Json;
using ServerV3.Server.Cli;
using ServerV3.Server.Tests.Http;

namespace ServerV3.Server.Tests.Cli;

/// <summary>`serverv3 bench-serve` against the real server (Kestrel on a loopback port, the demo model).</summary>
[Collection(ServerCollection.Name)]
public sealed class BenchServeCommandTests(ServerFixture server) : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("serverv3-bench-serve-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void EveryRequestStreamsItsTokensAndTheFiguresAgree()
    {
        string json = Path.Combine(directory, "serve.json");
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = CommandLine.Run(["bench-serve", "--url", server.BaseAddress.ToString(), "--concurrency", "1", "3", "--requests", "5",
            "--prompt-tokens", "12", "--gen-tokens", "6", "--json", json], output, error);

        Assert.True(code == 0, error.ToString() + output);
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var runs = report.RootElement.EnumerateArray().ToList();
        Assert.Equal([1, 3], runs.Select(r => r.GetProperty("concurrency").GetInt32()));
        foreach (var run in runs)
        {
            Assert.Equal(5, run.GetProperty("completed").GetInt32());
            Assert.Equal(0, run.GetProperty("failed").GetInt32());
            Assert.Equal(5 * 12, run.GetProperty("prompt_tokens").GetInt64());
            Assert.Equal(5 * 6, run.GetProperty("output_tokens").GetInt64()); // ignore_eos: every request runs to max_tokens
            double seconds = run.GetProperty("seconds").GetDouble();
            Assert.Equal(30 / seconds, run.GetProperty("output_tokens_per_s").GetDouble(), 6);
            foreach (string latency in new[] { "ttft_ms", "tpot_ms", "itl_ms", "e2e_ms" })
            {
                var summary = run.GetProperty(latency);
                double p50 = summary.GetProperty("p50").GetDouble(), p90 = summary.GetProperty("p90").GetDouble(), p99 = summary.GetProperty("p99").GetDouble();
                Assert.True(p50 > 0 && p50 <= p90 && p90 <= p99, $"{latency}: {summary}");
            }
            Assert.True(run.GetProperty("ttft_ms").GetProperty("p99").GetDouble() <= run.GetProperty("e2e_ms").GetProperty("p99").GetDouble());
            Assert.True(run.GetProperty("e2e_ms").GetProperty("p99").GetDouble() <= seconds * 1000);
        }
        Assert.Contains("concurrency   3: 5 of 5 requests", output.ToString());
        Assert.All(runs, run => Assert.Equal(JsonValueKind.Null, run.GetProperty("request_rate").ValueKind));
    }

    [Fact]
    public void RequestsCanArriveAtAPoissonRate()
    {
        string json = Path.Combine(directory, "rate.json");
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = CommandLine.Run(["bench-serve", "--url", server.BaseAddress.ToString(), "--concurrency", "2", "--request-rate", "40",
            "--requests", "4", "--prompt-tokens", "8", "--gen-tokens", "3", "--json", json], output, error);

        Assert.True(code == 0, error.ToString() + output);
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        var run = Assert.Single(report.RootElement.EnumerateArray().ToList());
        Assert.Equal(40, run.GetProperty("request_rate").GetDouble());
        Assert.Equal(4, run.GetProperty("completed").GetInt32());
        Assert.Equal(12, run.GetProperty("output_tokens").GetInt64());
        Assert.Contains("concurrency   2, 40 requests/s arriving: 4 of 4 requests", output.ToString());
    }

    [Fact]
    public async Task AServerThatRequiresAKeyIsBenchmarkedWithIt()
    {
        await using var keyed = await TestServer.StartAsync(new Dictionary<string, string> { ["ApiKey"] = "sekret" });
        string[] common = ["bench-serve", "--url", keyed.BaseAddress.ToString(), "--concurrency", "1", "--requests", "1", "--prompt-tokens", "4", "--gen-tokens", "2"];
        using var output = new StringWriter();
        using var error = new StringWriter();

        Assert.Equal(0, CommandLine.Run([.. common, "--api-key", "sekret"], output, error));
        Assert.Contains("1 of 1 requests", output.ToString());
        Assert.Equal(CommandLine.UsageExitCode, CommandLine.Run([.. common, "--api-key", "wrong"], output, error));
        Assert.Contains("answered 401", error.ToString());
    }

    [Fact]
    public void AServerThatCannotBeReachedIsAUsageError()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = CommandLine.Run(["bench-serve", "--url", "http://127.0.0.1:1", "--concurrency", "1"], output, error);

        Assert.Equal(CommandLine.UsageExitCode, code);
        Assert.Contains("cannot reach http://127.0.0.1:1/", error.ToString());
    }

    [Theory]
    [InlineData("--url", "localhost:8000", "--url must be an absolute http(s) address")]
    [InlineData("--concurrency", "0", "--concurrency values must be positive")]
    [InlineData("--gen-tokens", "0", "--gen-tokens must be positive")]
    [InlineData("--request-rate", "0", "--request-rate must be positive")]
    public void MisuseExitsWithTheUsageCode(string option, string value, string message)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var args = new Dictionary<string, string> { ["--url"] = server.BaseAddress.ToString(), [option] = value };

        int code = CommandLine.Run(["bench-serve", .. args.SelectMany(a => new[] { a.Key, a.Value })], output, error);

        Assert.Equal(CommandLine.UsageExitCode, code);
        Assert.Contains(message, error.ToString());
    }
}
