using ServerV3.Engine.Sampling;

namespace ServerV3.Server.Generation;

/// <summary>A generated token with its logprobs (when asked for).</summary>
public sealed record GeneratedToken(int TokenId, TokenLogprobs? Logprobs);
