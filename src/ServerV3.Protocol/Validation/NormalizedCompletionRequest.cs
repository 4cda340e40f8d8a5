namespace ServerV3.Protocol;

/// <summary>
/// A validated completion request: one or more prompts (text or token ids), each answered with
/// <see cref="GenerationOptions.N"/> choices; choice index = prompt index × n + sample index.
/// </summary>
public sealed record NormalizedCompletionRequest(
    string Model,
    IReadOnlyList<PromptInput> Prompts,
    bool Echo,
    GenerationOptions Generation);
