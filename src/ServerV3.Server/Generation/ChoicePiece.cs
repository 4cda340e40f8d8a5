namespace ServerV3.Server.Generation;

/// <summary>
/// What a choice produced since the last piece: text that is safe to send (stop strings removed) and the tokens
/// behind it. The last piece carries the OpenAI finish reason and the number of generated tokens.
/// </summary>
public sealed record ChoicePiece(string Text, IReadOnlyList<GeneratedToken> Tokens, string? FinishReason = null, int CompletionTokens = 0);
