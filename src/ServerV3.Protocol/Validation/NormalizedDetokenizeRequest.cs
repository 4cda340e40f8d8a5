namespace ServerV3.Protocol;

/// <summary>A validated /detokenize request.</summary>
public sealed record NormalizedDetokenizeRequest(string Model, IReadOnlyList<int> Tokens);
