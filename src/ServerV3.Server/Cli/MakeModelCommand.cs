using System.CommandLine;
using ServerV3.Engine.Config;
using ServerV3.Engine.ModelLoading;

namespace ServerV3.Server.Cli;

/// <summary>`serverv3 make-model`: writes a random checkpoint of a config's shape (configs/ has tiny and bench-small).</summary>
public static class MakeModelCommand
{
    public static Command Create(TextWriter output)
    {
        var config = new Option<FileInfo>("--config") { Description = "A Hugging Face DeepSeek-V3 config.json", Required = true };
        var outDir = new Option<DirectoryInfo>("--out") { Description = "Directory to write the checkpoint into", Required = true };
        var seed = new Option<int>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 0 };
        var dtype = new Option<string>("--dtype") { Description = "Weight storage: bf16, or fp8 (E4M3 with 128x128 block scales, as DeepSeek-V3 ships)", DefaultValueFactory = _ => "bf16" };
        dtype.AcceptOnlyFromAmong("bf16", "fp8");
        var command = new Command("make-model", "Write a randomly initialised checkpoint in Hugging Face format") { config, outDir, seed, dtype };
        command.SetAction(result =>
        {
            var file = result.GetValue(config)!;
            if (!file.Exists) throw new UsageException($"--config: {file.FullName}: file not found");
            var modelConfig = ModelConfig.Load(file.FullName);
            string directory = result.GetValue(outDir)!.FullName;
            RandomCheckpoint.Write(modelConfig, directory, result.GetValue(seed), result.GetValue(dtype) == "fp8");
            output.WriteLine($"wrote {directory}");
            return 0;
        });
        return command;
    }
}
