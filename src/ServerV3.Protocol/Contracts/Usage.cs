namespace ServerV3.Protocol;

/// <summary>Token counts of a request; total_tokens is derived.</summary>
public sealed record Usage(int PromptTokens, int CompletionTokens)
{
    public int TotalTokens => PromptTokens + CompletionTokens;
}
