namespace ServerV3.Protocol;

/// <summary>Response of POST /tokenize (vLLM); count is derived from the tokens.</summary>
public sealed record TokenizeResponse(int MaxModelLen, IReadOnlyList<int> Tokens)
{
    public int Count => Tokens.Count;
}
