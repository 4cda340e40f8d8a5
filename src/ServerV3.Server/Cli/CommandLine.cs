using System.CommandLine;
using ServerV3.Engine.Config;
using ServerV3.Engine.ModelLoading;
using ServerV3.Engine.Runtime;

namespace ServerV3.Server.Cli;

/// <summary>The `serverv3` verbs. Misuse (bad arguments, unreadable or invalid input files) exits with code 2.</summary>
public static class CommandLine
{
    public const int UsageExitCode = 2;

    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var root = new RootCommand("ServerV3: an OpenAI-compatible inference server for DeepSeek-V3-architecture models")
        {
            ServeCommand.Create(),
            LogitsCommand.Create(output),
            MakeModelCommand.Create(output),
            BenchCommand.Create(output),
            BenchThroughputCommand.Create(output),
            BenchMoeCommand.Create(output),
            BenchServeCommand.Create(output),
        };
        // No verb means serve (the built-in demo model unless --model): `dotnet run --project src/ServerV3.Server` gives a working server.
        bool noVerb = args.Length == 0 || (args[0].StartsWith('-') && args[0] is not ("--help" or "-h" or "-?" or "--version"));
        var result = root.Parse(noVerb ? ["serve", .. args] : args);
        if (result.Errors.Count > 0)
        {
            foreach (var parseError in result.Errors) error.WriteLine($"serverv3: {parseError.Message}");
            error.WriteLine("Run 'serverv3 --help' for usage.");
            return UsageExitCode;
        }
        try
        {
            return result.Invoke(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is UsageException or ModelLoadException or ModelConfigException or DeviceUnavailableException)
        {
            error.WriteLine($"serverv3: {e.Message}");
            return UsageExitCode;
        }
    }
}
