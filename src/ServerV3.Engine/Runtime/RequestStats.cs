namespace ServerV3.Engine.Runtime;

/// <summary>A finished request's accounting, carried by its last token event (for metrics and usage).</summary>
public sealed record RequestStats(
    int PromptTokens, int CachedPromptTokens, int GeneratedTokens, TimeSpan QueueTime, TimeSpan PrefillTime, TimeSpan DecodeTime, int Preemptions);
