using System.Text;
using ServerV3.Protocol;
using ServerV3.Server.Generation;
using ServerV3.Server.Hosting;

namespace ServerV3.Server.Endpoints;

/// <summary>The loaded model as the endpoints see it: limits for validation, and token-level helpers for responses.</summary>
public sealed class ServedModel(LoadedServices services, ServerOptions options)
{
    public LoadedServices Services { get; } = services;

    public ServerLimits Limits { get; } = new()
    {
        ServedModelNames = [options.ModelName],
        MaxModelLength = services.Model.Config.MaxPositionEmbeddings,
        MaxN = options.MaxChoices,
        VocabularySize = services.Model.Config.VocabSize,
    };

    /// <summary>A token's text as OpenAI reports it in logprobs (its bytes, decoded leniently).</summary>
    public string TokenText(int tokenId) => Encoding.UTF8.GetString(Services.Tokenizer.GetTokenBytes(tokenId));

    public ChatCompletionLogprobs? ChatLogprobs(IReadOnlyList<GeneratedToken> tokens)
    {
        if (tokens.Count == 0 || tokens[0].Logprobs is null) return null;
        return new ChatCompletionLogprobs
        {
            Content = tokens.Select(t => new TokenLogprob
            {
                Token = TokenText(t.TokenId),
                Logprob = t.Logprobs!.Logprob,
                Bytes = [.. Services.Tokenizer.GetTokenBytes(t.TokenId).ToArray()],
                TopLogprobs = t.Logprobs.Top.Select(top => new TopLogprob
                {
                    Token = TokenText(top.TokenId),
                    Logprob = top.Logprob,
                    Bytes = [.. Services.Tokenizer.GetTokenBytes(top.TokenId).ToArray()],
                }).ToArray(),
            }).ToArray(),
        };
    }

    /// <param name="textOffset">Offset of the first token's text in the choice's text.</param>
    public CompletionLogprobs? CompletionLogprobs(IReadOnlyList<GeneratedToken> tokens, int textOffset)
    {
        if (tokens.Count == 0 || tokens[0].Logprobs is null) return null;
        var offsets = new List<int>();
        int offset = textOffset;
        foreach (var token in tokens)
        {
            offsets.Add(offset);
            offset += TokenText(token.TokenId).Length;
        }
        return new CompletionLogprobs
        {
            Tokens = tokens.Select(t => TokenText(t.TokenId)).ToArray(),
            TokenLogprobs = tokens.Select(t => (double?)t.Logprobs!.Logprob).ToArray(),
            TopLogprobs = tokens.Select(t => (IReadOnlyDictionary<string, double>?)t.Logprobs!.Top
                .GroupBy(top => TokenText(top.TokenId)).ToDictionary(g => g.Key, g => (double)g.First().Logprob)).ToArray(),
            TextOffset = offsets,
        };
    }
}
