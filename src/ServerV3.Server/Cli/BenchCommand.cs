using System.CommandLine;

namespace ServerV3.Server.Cli;

/// <summary>`serverv3 bench`: prefill and decode throughput (see Benchmarking/).</summary>
public static class BenchCommand
{
    public static Command Create(TextWriter output)
    {
        var command = new Command("bench", "Measure prefill and decode throughput");
        command.SetAction(_ => { output.WriteLine("bench: not yet"); return 0; });
        return command;
    }
}
