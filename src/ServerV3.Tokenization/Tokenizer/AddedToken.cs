namespace ServerV3.Tokenization;

/// <summary>
/// An entry of <c>added_tokens</c> in tokenizer.json: matched in the raw text before BPE.
/// </summary>
/// <param name="Id">Token id.</param>
/// <param name="Content">Exact text of the token.</param>
/// <param name="IsSpecial">Special tokens are dropped by <c>Decode(..., skipSpecialTokens: true)</c>.</param>
/// <param name="LeftStrip">The match swallows whitespace on its left.</param>
/// <param name="RightStrip">The match swallows whitespace on its right.</param>
/// <param name="SingleWord">Only matches when not inside a word.</param>
public sealed record AddedToken(int Id, string Content, bool IsSpecial, bool LeftStrip = false, bool RightStrip = false, bool SingleWord = false);
