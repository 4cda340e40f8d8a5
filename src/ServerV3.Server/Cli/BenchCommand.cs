using System.CommandLine;
using System.Text.Json;
using ServerV3.Engine.Runtime;
using ServerV3.Server.Benchmarking;
using static ServerV3.Server.Cli.UsageException;

namespace ServerV3.Server.Cli;

/// <summary>`serverv3 bench`: prefill and decode throughput, per-kernel shares, and the bandwidth floor of decode.</summary>
public static class BenchCommand
{
    public static Command Create(TextWriter output)
    {
        var model = new Option<DirectoryInfo>("--model") { Description = "Model directory (Hugging Face format)", Required = true };
        var batch = new Option<int>("--batch") { Description = "Sequences decoding together", DefaultValueFactory = _ => 1 };
        var promptTokens = new Option<int>("--prompt-tokens") { Description = "Prompt length per sequence", DefaultValueFactory = _ => 128 };
        var genTokens = new Option<int>("--gen-tokens") { Description = "Tokens decoded per sequence", DefaultValueFactory = _ => 32 };
        var json = new Option<FileInfo?>("--json") { Description = "Also write the results as JSON to this file" };
        var engine = new EngineOptionSet();
        var command = new Command("bench", "Measure prefill and decode throughput") { model, batch, promptTokens, genTokens, json };
        engine.AddTo(command);
        command.SetAction(result =>
        {
            int b = Positive(result.GetValue(batch), "--batch"), p = Positive(result.GetValue(promptTokens), "--prompt-tokens");
            int g = Positive(result.GetValue(genTokens), "--gen-tokens");
            var directory = result.GetValue(model)!;
            var (options, _) = engine.Bind(result, directory.FullName, maxRunning: b);
            using var loaded = LoadedModel.Load(directory.FullName, options);
            var ceilings = Ceilings.Measure(loaded.Device.Kernels);
            var report = new ThroughputBenchmark(loaded, b, p, g).Run(directory.Name, ceilings.TriadBytesPerSecond, ceilings.ReadBytesPerSecond, ceilings.FlopsPerSecond);
            Print(report, output);
            if (result.GetValue(json) is { } file)
                File.WriteAllText(file.FullName, JsonSerializer.Serialize(report, new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }


    private static void Print(BenchReport r, TextWriter output)
    {
        output.WriteLine($"model {r.Model} on {r.Device}: batch {r.Batch}, prompt {r.PromptTokens}, generate {r.GenTokens}");
        output.WriteLine($"prefill  {r.PrefillTokensPerSecond,10:F1} tokens/s");
        output.WriteLine($"decode   {r.DecodeTokensPerSecond,10:F1} tokens/s ({r.DecodeStepMilliseconds:F1} ms/step; median {r.DecodeStepMedianMilliseconds:F1}, p90 {r.DecodeStepP90Milliseconds:F1}; {r.LaunchesPerDecodeStep:F0} launches/step, {r.AllocatedBytesPerDecodeStep / 1024.0:F0} KiB allocated/step, {r.Gen0CollectionsDuringDecode} gen0 GCs)");
        output.WriteLine($"floor    {r.DecodeFloorTokensPerSecond,10:F1} tokens/s at batch 1 ({r.WeightBytesPerToken / 1e6:F1} MB of weights per token, triad {r.TriadBandwidthGBPerSecond:F1} GB/s){OfFloor(r, r.DecodeFloorTokensPerSecond)}");
        output.WriteLine($"         {r.DecodeReadFloorTokensPerSecond,10:F1} tokens/s at batch 1 from the read-only probe ({r.ReadBandwidthGBPerSecond:F1} GB/s){OfFloor(r, r.DecodeReadFloorTokensPerSecond)}");
        output.WriteLine($"ceilings   FMA peak {r.PeakGFlopsPerSecond:F1} GFLOP/s, read {r.ReadBandwidthGBPerSecond:F1} GB/s, triad {r.TriadBandwidthGBPerSecond:F1} GB/s");
        PrintKernels($"decode step (median of {r.ProfiledDecodeSteps} profiled steps after the timed ones, launches synchronised)", r.DecodeKernels, output);
        PrintKernels($"prefill of {r.PromptTokens} tokens (profiled)", r.PrefillKernels, output);
    }

    /// <summary>Batch-1 decode as a fraction of a floor (the issue's measure); a larger batch's aggregate is not bound by it.</summary>
    private static string OfFloor(BenchReport r, double floor) => r.Batch == 1 ? $"; decode {r.DecodeTokensPerSecond / floor:P1} of it" : "";

    private static void PrintKernels(string title, IReadOnlyList<KernelRow> rows, TextWriter output)
    {
        output.WriteLine(title);
        output.WriteLine($"  {"kernel",-14}{"launches",9}{"ms",10}{"share",8}{"GFLOP/s",10}{"of peak",9}{"GB/s",8}{"of read",9}");
        foreach (var k in rows)
            output.WriteLine($"  {k.Kernel,-14}{k.Launches,9}{k.Milliseconds,10:F3}{k.Share,8:P1}{k.GFlopsPerSecond,10:F1}{k.FractionOfPeakFlops,9:P1}{k.GBytesPerSecond,8:F1}{k.FractionOfReadBandwidth,9:P1}");
    }
}
