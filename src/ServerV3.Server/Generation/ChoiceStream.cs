using System.Runtime.CompilerServices;
using ServerV3.Engine.Runtime;
using ServerV3.Engine.Sampling;
using ServerV3.Engine.Scheduling;
using ServerV3.Protocol;
using ServerV3.Tokenization;

namespace ServerV3.Server.Generation;

/// <summary>
/// One choice from token ids to text: engine tokens → UTF-8-safe incremental detokenizer → stop strings (matched
/// across token boundaries, never sent). A matched stop string ends the engine request at once.
/// </summary>
public static class ChoiceStream
{
    public static async IAsyncEnumerable<ChoicePiece> RunAsync(
        InferenceEngine engine, HfTokenizer tokenizer, IReadOnlyList<int> prompt, SamplingParams sampling, IReadOnlyList<string> stopStrings,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var detokenizer = tokenizer.CreateIncrementalDetokenizer(skipSpecialTokens: true);
        var stop = new StopStringMatcher(stopStrings);
        int generated = 0;
        string finish = FinishReasons.Length;
        await foreach (var item in engine.Generate(prompt, sampling, cancellationToken))
        {
            var tokens = new List<GeneratedToken>();
            string text = "";
            if (item.HasToken)
            {
                generated++;
                tokens.Add(new GeneratedToken(item.TokenId, item.Logprobs));
                text = stop.Push(detokenizer.Push(item.TokenId));
            }
            if (stop.MatchedStop is not null)
            {
                // Leaving the loop abandons the engine request, which frees its blocks at the next step.
                yield return new ChoicePiece(text, tokens);
                finish = FinishReasons.Stop;
                break;
            }
            if (item.Finish is { } reason)
            {
                finish = reason switch
                {
                    FinishReason.Stop => FinishReasons.Stop,
                    FinishReason.Length => FinishReasons.Length,
                    _ => "abort",
                };
                text += stop.Push(detokenizer.Flush());
                text += stop.MatchedStop is null ? stop.Flush() : "";
            }
            if (text.Length > 0 || tokens.Count > 0) yield return new ChoicePiece(text, tokens);
            if (item.Finish is not null) break;
        }
        yield return new ChoicePiece("", [], finish, generated);
    }

    /// <summary>The engine's sampling parameters for choice <paramref name="index"/> of a request.</summary>
    public static SamplingParams Sampling(Protocol.GenerationOptions options, int maxNewTokens, int index) => new()
    {
        Temperature = (float)options.Temperature,
        TopP = (float)options.TopP,
        TopK = options.TopK,
        MinP = (float)options.MinP,
        PresencePenalty = (float)options.PresencePenalty,
        FrequencyPenalty = (float)options.FrequencyPenalty,
        RepetitionPenalty = (float)options.RepetitionPenalty,
        LogitBias = options.LogitBias.ToDictionary(b => b.Key, b => (float)b.Value),
        // Choices of one seeded request must differ from each other yet reproduce: seed + choice index.
        Seed = options.Seed + index,
        MaxTokens = maxNewTokens,
        IgnoreEos = options.IgnoreEos,
        TopLogprobs = options.Logprobs,
    };
}
