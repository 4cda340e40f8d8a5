using System.CommandLine;
using System.Globalization;
using ServerV3.Server.Hosting;

namespace ServerV3.Server.Cli;

/// <summary>`serverv3 serve` (also what `serverv3` with no arguments does): the OpenAI-compatible HTTP server.</summary>
public static class ServeCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Model directory (Hugging Face format); default: the built-in demo model" };
        var host = new Option<string>("--host") { Description = "Address to listen on (default 0.0.0.0)" };
        var port = new Option<int?>("--port") { Description = "Port to listen on (default 8000)" };
        var servedModelName = new Option<string>("--served-model-name") { Description = "Model id for clients (default: the directory name)" };
        var apiKey = new Option<string>("--api-key") { Description = "Require Authorization: Bearer KEY (also SERVERV3_API_KEY)" };
        var engine = new EngineOptionSet();
        var command = new Command("serve", "Serve a model over the OpenAI-compatible HTTP API") { model, host, port, servedModelName, apiKey };
        engine.AddTo(command);
        command.SetAction((result, cancellation) =>
        {
            var overrides = new Dictionary<string, string?>();
            void Set<T>(Option<T> option, string key)
            {
                if (result.GetResult(option) is { Implicit: false } && result.GetValue(option) is { } value)
                    overrides[key] = Convert.ToString(value, CultureInfo.InvariantCulture);
            }
            Set(model, nameof(ServerOptions.Model));
            Set(host, nameof(ServerOptions.Host));
            Set(port, nameof(ServerOptions.Port));
            Set(servedModelName, nameof(ServerOptions.ServedModelName));
            Set(apiKey, nameof(ServerOptions.ApiKey));
            Set(engine.Device, nameof(ServerOptions.Device));
            Set(engine.CpuThreads, nameof(ServerOptions.CpuThreads));
            Set(engine.KvCacheMemory, nameof(ServerOptions.KvCacheMemory));
            Set(engine.BlockSize, nameof(ServerOptions.BlockSize));
            Set(engine.MaxBatchTokens, nameof(ServerOptions.MaxBatchTokens));
            Set(engine.MaxRunning, nameof(ServerOptions.MaxRunning));
            Set(engine.SpeculativeTokens, nameof(ServerOptions.SpeculativeTokens));
            Set(engine.ExpertParallel, nameof(ServerOptions.ExpertParallel));
            Set(engine.RedundantExperts, nameof(ServerOptions.RedundantExperts));
            Set(engine.ExpandedAttentionMinTokens, nameof(ServerOptions.ExpandedAttentionMinTokens));
            return RunAsync(ServerHost.Build(overrides), cancellation);
        });
        return command;
    }

    /// <summary>Runs until shutdown; a model that fails to load ends the process with the usage exit code.</summary>
    private static async Task<int> RunAsync(WebApplication app, CancellationToken cancellation)
    {
        // Taken before running: the host disposes its services when it stops.
        var model = app.Services.GetRequiredService<ModelService>().WhenLoaded;
        await app.RunAsync(cancellation);
        return model.IsFaulted ? CommandLine.UsageExitCode : 0;
    }
}
