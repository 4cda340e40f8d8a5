using System.Diagnostics.Metrics;
using ServerV3.Engine.Moe;
using ServerV3.Engine.Runtime;
using ServerV3.Server.Resilience;

namespace ServerV3.Server.Telemetry;

/// <summary>
/// Every ServerV3 metric, on the "ServerV3" meter. Names are vLLM's with a serverv3_ prefix instead of vllm:, so
/// dashboards and autoscaling rules port by a prefix change; the Prometheus exporter appends _seconds to histograms
/// with unit "s" and _total to counters. Engine-side figures are read from the engine's published counters.
/// </summary>
public sealed class ServerMetrics
{
    public const string MeterName = "ServerV3";

    // Latency buckets from 1 ms (GPU inter-token) to 80 s (long CPU requests).
    private static readonly double[] LatencyBuckets =
        [0.001, 0.0025, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80];
    private static readonly int[] TokenBuckets = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192];

    private readonly Histogram<double> timeToFirstToken, interTokenLatency, e2eLatency, queueTime, prefillTime, decodeTime, stepDuration;
    private readonly Histogram<int> stepTokens;
    private volatile InferenceEngine? engine;
    private volatile Func<ExpertLoadSnapshot>? expertLoad;
    private readonly Counter<long> promptTokens, generationTokens, cachedPromptTokens, requestSuccess, requestsRejected;

    public ServerMetrics(IMeterFactory meterFactory, CircuitState circuit)
    {
        var meter = meterFactory.Create(MeterName);
        Histogram<double> Latency(string name, string description) => meter.CreateHistogram(name, "s", description,
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = LatencyBuckets });
        timeToFirstToken = Latency("serverv3_time_to_first_token", "Time from request arrival to its first generated token");
        interTokenLatency = Latency("serverv3_inter_token_latency", "Time between consecutive generated tokens of a request");
        e2eLatency = Latency("serverv3_e2e_request_latency", "Time from request arrival to its end");
        queueTime = Latency("serverv3_request_queue_time", "Time a request waited before its first scheduled step");
        prefillTime = Latency("serverv3_request_prefill_time", "Time from first scheduling to the first token");
        decodeTime = Latency("serverv3_request_decode_time", "Time from the first token to the end");
        stepDuration = Latency("serverv3_engine_step_duration", "Duration of one engine step (one batched forward)");
        stepTokens = meter.CreateHistogram<int>("serverv3_engine_step_tokens", null, "Tokens computed in one engine step (batch size)",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = TokenBuckets });
        promptTokens = meter.CreateCounter<long>("serverv3_prompt_tokens", null, "Prompt tokens of finished requests");
        generationTokens = meter.CreateCounter<long>("serverv3_generation_tokens", null, "Generated tokens of finished requests");
        cachedPromptTokens = meter.CreateCounter<long>("serverv3_prompt_tokens_cached", null, "Prompt tokens served from the prefix cache");
        requestSuccess = meter.CreateCounter<long>("serverv3_request_success", null, "Finished requests by finish reason");
        requestsRejected = meter.CreateCounter<long>("serverv3_requests_rejected", null, "Requests refused before generation, by reason");

        EngineCounters Counters() => engine?.Counters ?? new EngineCounters();
        meter.CreateObservableGauge("serverv3_num_requests_running", () => Counters().NumRunning, null, "Requests in the running batch");
        meter.CreateObservableGauge("serverv3_num_requests_waiting", () => Counters().NumWaiting, null, "Requests waiting to be scheduled");
        meter.CreateObservableGauge("serverv3_kv_cache_usage_perc", () => Counters().KvCacheUsage, null, "Fraction of KV-cache blocks in use (0-1)");
        meter.CreateObservableCounter("serverv3_num_preemptions", () => Counters().NumPreemptions, null, "Sequences preempted to free cache blocks");
        meter.CreateObservableCounter("serverv3_prefix_cache_queries", () => Counters().PrefixQueriedTokens, null, "Prompt tokens looked up in the prefix cache");
        meter.CreateObservableCounter("serverv3_prefix_cache_hits", () => Counters().PrefixHitTokens, null, "Prompt tokens found in the prefix cache");
        meter.CreateObservableCounter("serverv3_spec_decode_num_drafts", () => Counters().Speculation.Verifications, null, "Verifications of speculative drafts");
        meter.CreateObservableCounter("serverv3_spec_decode_num_draft_tokens", () => Counters().Speculation.DraftedTokens, null, "Draft tokens proposed by the MTP module");
        meter.CreateObservableCounter("serverv3_spec_decode_num_accepted_tokens", () => Counters().Speculation.AcceptedTokens, null, "Draft tokens accepted by the main model");
        meter.CreateObservableCounter("serverv3_spec_decode_num_accepted_tokens_per_pos", () => Counters().Speculation.AcceptedByPosition
            .Select((count, position) => new Measurement<long>(count, new KeyValuePair<string, object?>("position", position))), null,
            "Accepted draft tokens by draft position");
        meter.CreateObservableGauge("serverv3_expert_load_tokens", () => ExpertLoad().SelectMany(layer => layer.TokensPerRank.Select((tokens, rank) =>
            new Measurement<long>(tokens, new KeyValuePair<string, object?>("layer", layer.Layer), new KeyValuePair<string, object?>("rank", rank)))),
            null, "Routed (token, expert) assignments per MoE layer and EP rank over the recent window");
        meter.CreateObservableGauge("serverv3_expert_load_imbalance", () => ExpertLoad().Select(layer =>
            new Measurement<double>(layer.RankImbalance, new KeyValuePair<string, object?>("layer", layer.Layer))),
            null, "Busiest EP rank's load over the mean, per MoE layer (1 is balanced)");
        meter.CreateObservableCounter("serverv3_expert_assignments", () => ExpertLoad().Select(layer =>
            new Measurement<long>(layer.TotalTokensPerExpert.Sum(), new KeyValuePair<string, object?>("layer", layer.Layer))),
            null, "Routed (token, expert) assignments computed per MoE layer");
        meter.CreateObservableGauge("serverv3_circuit_breaker_open", () => circuit.IsOpen ? 1 : 0, null, "1 while the engine circuit breaker is open");
    }

    /// <summary>Starts reporting the engine's figures (called once the model is loaded).</summary>
    public void Attach(InferenceEngine engine, Func<ExpertLoadSnapshot> expertLoad)
    {
        this.engine = engine;
        this.expertLoad = expertLoad;
        engine.StepCompleted += RecordStep;
    }

    private void RecordStep(StepStats step)
    {
        stepDuration.Record(step.Duration.TotalSeconds);
        stepTokens.Record(step.Tokens);
    }

    public void RecordFirstToken(TimeSpan sinceArrival) => timeToFirstToken.Record(sinceArrival.TotalSeconds);

    public void RecordInterToken(TimeSpan gap) => interTokenLatency.Record(gap.TotalSeconds);

    private IReadOnlyList<LayerExpertLoad> ExpertLoad() => expertLoad?.Invoke().Layers ?? [];

    public void RecordRejected(string reason) => requestsRejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void RecordFinished(RequestStats? stats, string finishReason, TimeSpan sinceArrival)
    {
        e2eLatency.Record(sinceArrival.TotalSeconds);
        requestSuccess.Add(1, new KeyValuePair<string, object?>("finished_reason", finishReason));
        if (stats is null) return;
        promptTokens.Add(stats.PromptTokens);
        generationTokens.Add(stats.GeneratedTokens);
        cachedPromptTokens.Add(stats.CachedPromptTokens);
        queueTime.Record(stats.QueueTime.TotalSeconds);
        prefillTime.Record(stats.PrefillTime.TotalSeconds);
        decodeTime.Record(stats.DecodeTime.TotalSeconds);
    }
}
