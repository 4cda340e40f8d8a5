namespace ServerV3.Engine.Sampling;

/// <summary>The chosen token's log-probability and the most likely alternatives, from the processed distribution.</summary>
public sealed record TokenLogprobs(float Logprob, IReadOnlyList<(int TokenId, float Logprob)> Top);
