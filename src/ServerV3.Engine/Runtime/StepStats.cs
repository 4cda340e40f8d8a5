namespace ServerV3.Engine.Runtime;

/// <summary>One engine step: how long it took and how many tokens (prefill, decode and drafts) it computed.</summary>
public readonly record struct StepStats(TimeSpan Duration, int Tokens, int Sequences);
