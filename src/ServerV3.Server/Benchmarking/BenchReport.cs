using System.Text.Json.Serialization;

namespace ServerV3.Server.Benchmarking;

/// <summary>What `serverv3 bench` measured, written as JSON with --json.</summary>
public sealed record BenchReport
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("device")] public required string Device { get; init; }
    [JsonPropertyName("batch")] public required int Batch { get; init; }
    [JsonPropertyName("prompt_tokens")] public required int PromptTokens { get; init; }
    [JsonPropertyName("gen_tokens")] public required int GenTokens { get; init; }
    [JsonPropertyName("prefill_tokens_per_s")] public required double PrefillTokensPerSecond { get; init; }
    [JsonPropertyName("decode_tokens_per_s")] public required double DecodeTokensPerSecond { get; init; }
    /// <summary>Mean time of a timed decode step (what <see cref="DecodeTokensPerSecond"/> is made of).</summary>
    [JsonPropertyName("decode_step_ms")] public required double DecodeStepMilliseconds { get; init; }
    /// <summary>
    /// Median and 90th percentile of the timed decode steps: on a shared host a step in which a core was taken away
    /// takes twice as long or more, and how far the mean sits above the median says what that cost.
    /// </summary>
    [JsonPropertyName("decode_step_median_ms")] public required double DecodeStepMedianMilliseconds { get; init; }
    [JsonPropertyName("decode_step_p90_ms")] public required double DecodeStepP90Milliseconds { get; init; }
    [JsonPropertyName("launches_per_decode_step")] public required double LaunchesPerDecodeStep { get; init; }
    /// <summary>Managed bytes allocated per decode step (the target is none in the steady state).</summary>
    [JsonPropertyName("allocated_bytes_per_decode_step")] public required long AllocatedBytesPerDecodeStep { get; init; }
    [JsonPropertyName("gen0_collections_during_decode")] public required int Gen0CollectionsDuringDecode { get; init; }
    [JsonPropertyName("weight_bytes_per_token")] public required long WeightBytesPerToken { get; init; }
    [JsonPropertyName("triad_bandwidth_gb_per_s")] public required double TriadBandwidthGBPerSecond { get; init; }
    [JsonPropertyName("read_bandwidth_gb_per_s")] public required double ReadBandwidthGBPerSecond { get; init; }
    /// <summary>Batch-1 decode ceiling from the read-only probe: read bandwidth ÷ weight bytes read per token.</summary>
    [JsonPropertyName("decode_read_floor_tokens_per_s")] public required double DecodeReadFloorTokensPerSecond { get; init; }
    /// <summary>Batch-1 decode ceiling: memory bandwidth ÷ weight bytes read per token.</summary>
    [JsonPropertyName("decode_floor_tokens_per_s")] public required double DecodeFloorTokensPerSecond { get; init; }
    /// <summary>fp32 FMA peak of the cores in use (<see cref="ComputePeak"/>).</summary>
    [JsonPropertyName("peak_gflop_per_s")] public required double PeakGFlopsPerSecond { get; init; }
    /// <summary>Decode steps profiled after the timed ones (every launch synchronised and timed); the table holds their medians.</summary>
    [JsonPropertyName("profiled_decode_steps")] public required int ProfiledDecodeSteps { get; init; }
    [JsonPropertyName("decode_kernels")] public required IReadOnlyList<KernelRow> DecodeKernels { get; init; }
    /// <summary>Per-kernel figures of the first sequence's profiled prefill.</summary>
    [JsonPropertyName("prefill_kernels")] public required IReadOnlyList<KernelRow> PrefillKernels { get; init; }
}
