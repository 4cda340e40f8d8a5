using System.Text.Json.Serialization;

namespace ServerV3.Server.Benchmarking;

/// <summary>What `serverv3 bench-moe` measured, written as JSON with --json.</summary>
public sealed record MoeBenchReport
{
    [JsonPropertyName("model")] public required string Model { get; init; }
    [JsonPropertyName("device")] public required string Device { get; init; }
    [JsonPropertyName("expert_parallel")] public required int ExpertParallel { get; init; }
    [JsonPropertyName("redundant_experts")] public required int RedundantExperts { get; init; }
    [JsonPropertyName("moe_layers")] public required int MoeLayers { get; init; }
    [JsonPropertyName("iterations")] public required int Iterations { get; init; }
    [JsonPropertyName("steps")] public required IReadOnlyList<MoeStepTiming> Steps { get; init; }
}

/// <summary>One step size: the mean time of one MoE layer and the shares of its phases (see <see cref="Engine.Moe.MoeTimings"/>).</summary>
public sealed record MoeStepTiming
{
    [JsonPropertyName("tokens")] public required int Tokens { get; init; }
    [JsonPropertyName("moe_layer_ms")] public required double MoeLayerMilliseconds { get; init; }
    [JsonPropertyName("gate_share")] public required double GateShare { get; init; }
    [JsonPropertyName("dispatch_share")] public required double DispatchShare { get; init; }
    [JsonPropertyName("experts_share")] public required double ExpertsShare { get; init; }
    [JsonPropertyName("combine_share")] public required double CombineShare { get; init; }
    /// <summary>Busiest rank's (token, expert) assignments over the mean rank's.</summary>
    [JsonPropertyName("rank_imbalance")] public required double RankImbalance { get; init; }
}
