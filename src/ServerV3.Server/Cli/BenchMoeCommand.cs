using System.CommandLine;
using System.Text.Json;
using ServerV3.Engine.Runtime;
using ServerV3.Server.Benchmarking;

namespace ServerV3.Server.Cli;

/// <summary>`serverv3 bench-moe`: MoE layer time against the tokens per step on --expert-parallel ranks, and the share of dispatch and combine.</summary>
public static class BenchMoeCommand
{
    public static Command Create(TextWriter output)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model directory (Hugging Face format)", Required = true };
        var tokens = new Option<int[]>("--tokens") { Description = "Tokens per step, one measurement per value", DefaultValueFactory = _ => [1, 16, 64, 256], AllowMultipleArgumentsPerToken = true };
        var iterations = new Option<int>("--iterations") { Description = "Timed steps per value", DefaultValueFactory = _ => 3 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file" };
        var engine = new EngineOptionSet();
        var command = new Command("bench-moe", "Measure MoE layer time and its dispatch/combine share on the expert-parallel ranks") { model, tokens, iterations, json };
        engine.AddTo(command);
        command.SetAction(result =>
        {
            var counts = result.GetValue(tokens)!;
            int steps = result.GetValue(iterations);
            if (counts.Length == 0 || counts.Any(t => t < 1)) throw new UsageException("--tokens values must be positive");
            if (steps < 1) throw new UsageException($"--iterations must be positive, got {steps}");
            var directory = result.GetValue(model)!;
            var (options, _) = engine.Bind(result, directory.FullName, maxRunning: 1);
            if (counts.Max() > options.Shape.MaxTokensPerStep)
                throw new UsageException($"--tokens {counts.Max()} exceeds --max-batch-tokens {options.Shape.MaxTokensPerStep}");
            // The load window covers exactly the timed steps of one value; copies move only when the benchmark asks.
            options = options with { ExpertParallel = options.ExpertParallel with { LoadWindowSteps = steps, RebalanceIntervalSteps = 0 } };
            using var loaded = LoadedModel.Load(directory.FullName, options);
            var report = new MoeBenchmark(loaded, counts, steps).Run(directory.Name);
            Print(report, output);
            if (result.GetValue(json) is { } file)
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }

    private static void Print(MoeBenchReport r, TextWriter output)
    {
        output.WriteLine($"model {r.Model} on {r.Device}: expert-parallel {r.ExpertParallel}, {r.RedundantExperts} redundant experts, {r.MoeLayers} MoE layers per forward, {r.Iterations} timed steps each");
        output.WriteLine("tokens  MoE layer ms    gate  dispatch  experts  combine  dispatch+combine  rank imbalance");
        foreach (var s in r.Steps)
            output.WriteLine($"{s.Tokens,6}  {s.MoeLayerMilliseconds,12:F3}  {s.GateShare,6:P1}  {s.DispatchShare,8:P1}  {s.ExpertsShare,7:P1}  {s.CombineShare,7:P1}  {s.DispatchShare + s.CombineShare,16:P1}  {s.RankImbalance,14:F2}");
    }
}
