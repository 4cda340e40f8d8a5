using ServerV3.Engine.ModelLoading;

namespace ServerV3.Engine.Moe;

/// <summary>Where routed experts are loaded: one weight loader per EP rank ([0] the primary's) and the placement every MoE layer starts from.</summary>
public sealed record ExpertSharding(IReadOnlyList<WeightLoader> RankLoaders, ExpertPlacement InitialPlacement);
