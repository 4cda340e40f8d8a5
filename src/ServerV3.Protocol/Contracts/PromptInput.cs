namespace ServerV3.Protocol;

/// <summary>One prompt of a completion request: text to tokenize, or token ids; exactly one is set.</summary>
public sealed record PromptInput
{
    public string? Text { get; init; }

    public IReadOnlyList<int>? TokenIds { get; init; }

    public static PromptInput FromText(string text) => new() { Text = text };

    public static PromptInput FromTokenIds(IReadOnlyList<int> tokenIds) => new() { TokenIds = tokenIds };
}
