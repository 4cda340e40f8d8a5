using System.Net;
using System.Reflection;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using ServerV3.Server.Hosting;
using ServerV3.Server.Tests.Http;
using ServerV3.Tests;

namespace ServerV3.Server.Tests.Deployment;

/// <summary>
/// The deployment files — alerting rules, the Grafana dashboard, the autoscaler's metric in the Helm chart and the
/// kustomize manifests, prometheus-adapter's rules — name only metrics the server exports, and only settings it has.
/// A renamed metric would otherwise leave an alert that never fires, an empty panel or an autoscaler that never scales.
/// </summary>
public sealed partial class DeploymentMetricsTests
{
    /// <summary>Metric names of the server's own families, ASP.NET Core's and the runtime/process instrumentation's.</summary>
    [GeneratedRegex(@"\b(?:serverv3|http_server|kestrel|aspnetcore|dotnet|process)_[a-z0-9_]+\b")]
    private static partial Regex MetricName();

    [Fact]
    public async Task EveryMetricTheDeploymentFilesUseIsExported()
    {
        // One concurrent request and no queue, so that a second request is turned away and the rejection counter
        // (which appears with its first increment) is in the scrape too.
        await using var server = await TestServer.StartAsync(new Dictionary<string, string>
        {
            ["MaxConcurrentRequests"] = "1",
            ["MaxQueuedRequests"] = "0",
        });

        // A completion, so every histogram has series.
        using (var completion = await server.Http.PostAsync("/v1/completions", Json("""{"prompt":"Amen","max_tokens":2}""")))
            Assert.Equal(HttpStatusCode.OK, completion.StatusCode);

        // A stream holds the only slot (its first event proves it is generating); the next request gets 429.
        using (var holder = new CancellationTokenSource())
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/v1/completions")
            {
                Content = Json("""{"prompt":"And the LORD said unto Moses","max_tokens":500,"ignore_eos":true,"stream":true}"""),
            };
            using var stream = await server.Http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, holder.Token);
            Assert.Equal(HttpStatusCode.OK, stream.StatusCode);
            using var reader = new StreamReader(await stream.Content.ReadAsStreamAsync(holder.Token));
            while (await reader.ReadLineAsync(holder.Token) is { } line && !line.StartsWith("data: {", StringComparison.Ordinal)) { }
            using var rejected = await server.Http.PostAsync("/v1/completions", Json("""{"prompt":"Amen","max_tokens":2}"""));
            Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
            await holder.CancelAsync();
        }

        string scrape = await server.Http.GetStringAsync("/metrics");
        var exported = scrape.Split('\n')
            .Where(line => line.Length > 0 && line[0] != '#')
            .Select(line => line[..line.IndexOfAny(['{', ' '])])
            .ToHashSet(StringComparer.Ordinal);
        Assert.Contains("serverv3_requests_rejected_total", exported);

        // A histogram's family name (in a description or a histogram_quantile) stands for its _bucket/_sum/_count series.
        bool IsExported(string name) => exported.Contains(name) || exported.Contains(name + "_bucket");

        var uses = MetricUses();
        var missing = uses.Where(use => !IsExported(use.Metric))
            .Select(use => $"{use.Metric} (in {use.Source})").Distinct().ToList();
        Assert.True(missing.Count == 0, "metrics used by the deployment files but not exported by the server:\n" + string.Join('\n', missing));

        // Each kind of file was actually read and holds what it is for.
        string[] Names(string sourcePrefix) => uses.Where(u => u.Source.StartsWith(sourcePrefix, StringComparison.Ordinal)).Select(u => u.Metric).Distinct().ToArray();
        Assert.True(Names("deploy/prometheus/alerts.yml").Length >= 6, "alerts.yml names too few metrics");
        Assert.True(Names("deploy/grafana/").Length >= 20, "the dashboard's queries name too few metrics");
        Assert.Contains("serverv3_num_requests_waiting", Names("helm/serverv3/templates/hpa.yaml").Concat(Names("helm/serverv3/values")));
        Assert.Contains("serverv3_num_requests_waiting", Names("deploy/kubernetes/base/"));
        Assert.Contains("serverv3_num_requests_waiting", Names("deploy/prometheus/prometheus-adapter-values.yaml"));
        foreach (string family in new[] { "serverv3_time_to_first_token_seconds_bucket", "serverv3_kv_cache_usage_perc", "serverv3_circuit_breaker_open" })
            Assert.Contains(family, Names("deploy/prometheus/alerts.yml").Concat(Names("deploy/grafana/")));
    }

    [Fact]
    public void EverySettingTheDeploymentFilesSetIsAServerOption()
    {
        var properties = typeof(ServerOptions).GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite).Select(p => p.Name).ToHashSet(StringComparer.OrdinalIgnoreCase);
        properties.Add("API_KEY"); // SERVERV3_API_KEY, the documented spelling of ApiKey

        // The chart's settings map (its schema lists every key it accepts).
        using var schema = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "helm", "serverv3", "values.schema.json")));
        var chartSettings = schema.RootElement.GetProperty("properties").GetProperty("server").GetProperty("properties")
            .GetProperty("settings").GetProperty("properties").EnumerateObject().Select(p => p.Name).ToList();
        Assert.NotEmpty(chartSettings);
        foreach (string setting in chartSettings)
            Assert.True(typeof(ServerOptions).GetProperty(setting) is { CanWrite: true }, $"values.schema.json: server.settings.{setting} is no ServerOptions property");

        // Every SERVERV3_* variable written anywhere in the deployment files: the Dockerfile, the chart's templates
        // and values, and the kustomize manifests.
        var files = new[] { "Dockerfile" }
            .Concat(RepositoryFiles("helm", "*.yaml", "*.tpl", "*.txt"))
            .Concat(RepositoryFiles(Path.Combine("deploy", "kubernetes"), "*.yaml", "*.env"));
        int seen = 0;
        foreach (string file in files)
            foreach (Match m in Regex.Matches(File.ReadAllText(Path.Combine(RepositoryPaths.Root, file)), @"\bSERVERV3_([A-Z_]+)\b"))
            {
                seen++;
                Assert.True(properties.Contains(m.Groups[1].Value), $"{file}: SERVERV3_{m.Groups[1].Value} is no ServerOptions setting");
            }
        Assert.True(seen >= 10, $"only {seen} SERVERV3_ variables found in the deployment files");
    }

    private sealed record MetricUse(string Metric, string Source);

    /// <summary>Metric names in the alerting rules, the dashboard's queries, the chart, the kustomize manifests and the adapter rules.</summary>
    private static List<MetricUse> MetricUses()
    {
        var uses = new List<MetricUse>();
        void Scan(string text, string source)
        {
            foreach (Match m in MetricName().Matches(text)) uses.Add(new MetricUse(m.Value, source));
        }

        // Rule files and manifests: their PromQL, metric references and descriptions (metric names only appear there).
        foreach (string file in new[] { Path.Combine("deploy", "prometheus", "alerts.yml"), Path.Combine("deploy", "prometheus", "prometheus-adapter-values.yaml") }
            .Concat(RepositoryFiles(Path.Combine("deploy", "kubernetes"), "*.yaml"))
            .Concat(RepositoryFiles(Path.Combine("helm", "serverv3"), "*.yaml", "*.tpl", "*.txt")))
            Scan(File.ReadAllText(Path.Combine(RepositoryPaths.Root, file)), file.Replace('\\', '/'));

        // The dashboard: every panel query (rows may nest panels) and every template variable query.
        const string dashboard = "deploy/grafana/serverv3-dashboard.json";
        using var json = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepositoryPaths.Root, "deploy", "grafana", "serverv3-dashboard.json")));
        int queries = 0;
        void Panels(JsonElement panels)
        {
            foreach (var panel in panels.EnumerateArray())
            {
                if (panel.TryGetProperty("targets", out var targets))
                    foreach (var target in targets.EnumerateArray())
                        if (target.TryGetProperty("expr", out var expr))
                        {
                            queries++;
                            Scan(expr.GetString()!, $"{dashboard}: panel \"{panel.GetProperty("title").GetString()}\"");
                        }
                if (panel.TryGetProperty("panels", out var nested)) Panels(nested);
            }
        }
        Panels(json.RootElement.GetProperty("panels"));
        foreach (var variable in json.RootElement.GetProperty("templating").GetProperty("list").EnumerateArray())
            if (variable.TryGetProperty("query", out var query))
                Scan(query.ValueKind == JsonValueKind.Object ? query.GetProperty("query").GetString()! : query.ToString(), $"{dashboard}: variable {variable.GetProperty("name").GetString()}");
        Assert.True(queries >= 30, $"the dashboard has only {queries} queries");
        return uses;
    }

    /// <summary>Repository-relative paths of the files under a folder that match any of the patterns.</summary>
    private static IEnumerable<string> RepositoryFiles(string folder, params string[] patterns) =>
        patterns.SelectMany(pattern => Directory.EnumerateFiles(Path.Combine(RepositoryPaths.Root, folder), pattern, SearchOption.AllDirectories))
            .Where(path => !path.Contains($"{Path.DirectorySeparatorChar}node_modules{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(path => Path.GetRelativePath(RepositoryPaths.Root, path))
            .Order(StringComparer.Ordinal);

    private static StringContent Json(string body) => new(body, Encoding.UTF8, "application/json");
}
