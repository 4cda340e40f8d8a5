namespace ServerV3.Protocol;

/// <summary>
/// A validated /tokenize request: exactly one of <see cref="Prompt"/> and <see cref="Messages"/>.
/// Defaults follow vLLM: add_special_tokens is true for a prompt and false for messages (the chat
/// template writes BOS); add_generation_prompt is true.
/// </summary>
public sealed record NormalizedTokenizeRequest(
    string Model,
    string? Prompt,
    IReadOnlyList<NormalizedChatMessage>? Messages,
    bool AddGenerationPrompt,
    bool AddSpecialTokens);
