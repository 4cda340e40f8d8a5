namespace ServerV3.Server.Generation;

/// <summary>A whole (non-streamed) choice: its text, its tokens, why it finished and how many tokens it generated.</summary>
public sealed record ChoiceResult(string Text, IReadOnlyList<GeneratedToken> Tokens, string FinishReason, int CompletionTokens)
{
    /// <param name="prefix">Text that goes before the generated text (the prompt, for echo).</param>
    public static async Task<ChoiceResult> CollectAsync(IAsyncEnumerable<ChoicePiece> choice, string prefix = "")
    {
        var text = new System.Text.StringBuilder(prefix);
        var tokens = new List<GeneratedToken>();
        ChoicePiece? last = null;
        await foreach (var piece in choice)
        {
            text.Append(piece.Text);
            tokens.AddRange(piece.Tokens);
            last = piece;
        }
        return new ChoiceResult(text.ToString(), tokens, last?.FinishReason ?? Protocol.FinishReasons.Length, last?.CompletionTokens ?? 0);
    }
}
