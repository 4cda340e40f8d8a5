using System.Text.Json;
using ServerV3.Server.Cli;
using ServerV3.Tests;

namespace ServerV3.Server.Tests.Cli;

/// <summary>`serverv3 bench` on the tiny golden model: the report's per-step figures agree with each other.</summary>
public sealed class BenchCommandTests : IDisposable
{
    private readonly string directory = Directory.CreateTempSubdirectory("serverv3-bench-").FullName;

    public void Dispose() => Directory.Delete(directory, recursive: true);

    [Fact]
    public void TheDecodeTableTakesTheMedianOfItsProfiledStepsWithTheTimedStepsLaunches()
    {
        var (root, output) = Bench(batch: 2, promptTokens: 8, genTokens: 3);

        Assert.Equal(3, root.GetProperty("profiled_decode_steps").GetInt32());
        double median = root.GetProperty("decode_step_median_ms").GetDouble(), p90 = root.GetProperty("decode_step_p90_ms").GetDouble();
        Assert.InRange(median, double.Epsilon, p90);
        // Three timed steps: their 90th percentile is 0.2 of the middle one plus 0.8 of the slowest, never below their mean.
        Assert.InRange(root.GetProperty("decode_step_ms").GetDouble(), 0, p90 * 1.0001);
        var decode = root.GetProperty("decode_kernels").EnumerateArray().ToList();
        Assert.Equal(root.GetProperty("launches_per_decode_step").GetDouble(), decode.Sum(k => k.GetProperty("launches").GetInt64()));
        Assert.Equal(1.0, decode.Sum(k => k.GetProperty("share").GetDouble()), 2);
        Assert.Contains("median of 3 profiled steps", output);
        Assert.DoesNotContain("of it", output); // an aggregate over 2 sequences is not bound by the batch-1 floor
    }

    [Fact]
    public void BatchOneDecodeIsReportedAsAFractionOfBothFloors()
    {
        var (root, output) = Bench(batch: 1, promptTokens: 4, genTokens: 2);

        double decode = root.GetProperty("decode_tokens_per_s").GetDouble();
        var lines = output.Split('\n');
        Assert.Contains(lines, l => l.StartsWith("floor") && l.EndsWith($"; decode {decode / root.GetProperty("decode_floor_tokens_per_s").GetDouble():P1} of it"));
        Assert.Contains(lines, l => l.Contains("read-only probe") && l.EndsWith($"; decode {decode / root.GetProperty("decode_read_floor_tokens_per_s").GetDouble():P1} of it"));
    }

    /// <summary>Runs the bench on tiny-v3; returns its JSON report and what it printed.</summary>
    private (JsonElement Report, string Output) Bench(int batch, int promptTokens, int genTokens)
    {
        string json = Path.Combine(directory, $"bench-{batch}.json");
        using var output = new StringWriter();
        using var error = new StringWriter();

        int code = CommandLine.Run(["bench", "--model", RepositoryPaths.Golden("tiny-v3"), "--batch", $"{batch}", "--prompt-tokens", $"{promptTokens}",
            "--gen-tokens", $"{genTokens}", "--device", "cpu", "--json", json], output, error);

        Assert.True(code == 0, error.ToString() + output);
        using var report = JsonDocument.Parse(File.ReadAllText(json));
        return (report.RootElement.Clone(), output.ToString());
    }
}
