using System.CommandLine;
using System.Text.Json;
using ServerV3.Engine.Runtime;
using ServerV3.Engine.Sampling;
using ServerV3.Server.Benchmarking;

namespace ServerV3.Server.Cli;

/// <summary>`serverv3 bench-throughput`: offline generation throughput through the continuous-batching engine.</summary>
public static class BenchThroughputCommand
{
    public static Command Create(TextWriter output)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model directory (Hugging Face format)", Required = true };
        var concurrency = new Option<int[]>("--concurrency") { Description = "Concurrent requests, one run per value", DefaultValueFactory = _ => [1, 8, 32, 64], AllowMultipleArgumentsPerToken = true };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length per request", DefaultValueFactory = _ => 128 };
        var genTokens = new Option<int>("--gen-tokens") { Description = "Tokens generated per request", DefaultValueFactory = _ => 64 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature of every request (0: greedy)", DefaultValueFactory = _ => 0 };
        var topP = new Option<float>("--top-p") { Description = "Nucleus sampling mass of every request (1: off)", DefaultValueFactory = _ => 1 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file" };
        var engine = new EngineOptionSet();
        var command = new Command("bench-throughput", "Measure offline generation throughput through the engine") { model, concurrency, promptTokens, genTokens, temperature, topP, json };
        engine.AddTo(command);
        command.SetAction(result =>
        {
            var levels = result.GetValue(concurrency)!;
            if (levels.Length == 0 || levels.Any(c => c < 1)) throw new UsageException("--concurrency values must be positive");
            var sampling = new SamplingParams { Temperature = result.GetValue(temperature), TopP = result.GetValue(topP) };
            if (sampling.Temperature < 0) throw new UsageException("--temperature must not be negative");
            if (sampling.TopP is <= 0 or > 1) throw new UsageException("--top-p must be in (0, 1]");
            int maxRunning = levels.Max();
            string directory = result.GetValue(model)!.FullName;
            var (options, scheduling) = engine.Bind(result, directory, maxRunning);
            using var loaded = LoadedModel.Load(directory, options);
            using var inference = new InferenceEngine(loaded, scheduling);
            output.WriteLine($"speculative tokens: {scheduling.SpeculativeTokens}");
            var results = new List<OfflineThroughputBenchmark.Result>();
            // Warm-up: JIT and first touch of every kernel and buffer.
            OfflineThroughputBenchmark.RunAsync(inference, loaded.Config.VocabSize, 1, 8, 2, sampling).GetAwaiter().GetResult();
            foreach (int level in levels)
            {
                var r = OfflineThroughputBenchmark.RunAsync(inference, loaded.Config.VocabSize, level, result.GetValue(promptTokens), result.GetValue(genTokens), sampling).GetAwaiter().GetResult();
                results.Add(r);
                output.WriteLine($"concurrency {r.Concurrency,3}: {r.OutputTokensPerSecond,8:F1} output tokens/s, {r.TotalTokensPerSecond,8:F1} total tokens/s ({r.Seconds:F1} s, {r.Steps} steps, acceptance {r.AcceptanceRate:P1}, mean accepted length {r.MeanAcceptedLength:F2})");
            }
            if (result.GetValue(json) is { } file)
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(results, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }
}
