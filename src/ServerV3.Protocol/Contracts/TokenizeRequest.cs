namespace ServerV3.Protocol;

/// <summary>
/// Body of POST /tokenize (vLLM): either <c>{model?, prompt, add_special_tokens?}</c> or
/// <c>{model?, messages, add_generation_prompt?, add_special_tokens?}</c>.
/// </summary>
public sealed record TokenizeRequest
{
    public string? Model { get; init; }

    public string? Prompt { get; init; }

    public IReadOnlyList<ChatMessageParam?>? Messages { get; init; }

    public bool? AddGenerationPrompt { get; init; }

    public bool? AddSpecialTokens { get; init; }
}
