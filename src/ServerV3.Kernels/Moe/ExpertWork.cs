namespace ServerV3.Kernels.Moe;

/// <summary>The host-known size of one grouped expert launch: token-expert pairs and experts with at least one.</summary>
public readonly record struct ExpertWork(int Assignments, int ActiveExperts);
