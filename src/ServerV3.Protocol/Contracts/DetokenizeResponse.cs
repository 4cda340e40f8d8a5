namespace ServerV3.Protocol;

/// <summary>Response of POST /detokenize (vLLM).</summary>
public sealed record DetokenizeResponse(string Prompt);
