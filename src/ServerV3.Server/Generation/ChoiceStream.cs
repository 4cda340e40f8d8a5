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
        GenerationScope scope)
    {
        var detokenizer = tokenizer.CreateIncrementalDetokenizer(skipSpecialTokens: true);
        var stop = new StopStringMatcher(stopStrings);
        int generated = 0;
        string finish = FinishReasons.Length;
        RequestStats? stats = null;
        long lastToken = 0;
        var events = engine.Generate(prompt, sampling, scope.Token).GetAsyncEnumerator(scope.Token);
        try
        {
            while (true)
            {
                bool more, serverStopped = false;
                try
                {
                    more = await events.MoveNextAsync();
                }
                catch (OperationCanceledException) when (!scope.ClientGone)
                {
                    more = false;
                    serverStopped = true;
                }
                if (serverStopped)
                {
                    // The server stopped it (total timeout or shutdown): end the choice cleanly.
                    finish = scope.ServerStopReason;
                    string rest = stop.Push(detokenizer.Flush());
                    yield return new ChoicePiece(stop.MatchedStop is null ? rest + stop.Flush() : rest, []);
                }
                if (!more) break;
                var item = events.Current;
                var tokens = new List<GeneratedToken>();
                string text = "";
                if (item.HasToken)
                {
                    long now = System.Diagnostics.Stopwatch.GetTimestamp();
                    if (generated++ == 0)
                    {
                        scope.Metrics.RecordFirstToken(System.Diagnostics.Stopwatch.GetElapsedTime(scope.ArrivedAt, now));
                        scope.Activity?.AddEvent(new System.Diagnostics.ActivityEvent("first_token"));
                    }
                    else
                    {
                        scope.Metrics.RecordInterToken(System.Diagnostics.Stopwatch.GetElapsedTime(lastToken, now));
                    }
                    lastToken = now;
                    tokens.Add(new GeneratedToken(item.TokenId, item.Logprobs));
                    text = stop.Push(detokenizer.Push(item.TokenId));
                }
                stats = item.Stats ?? stats;
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
        }
        finally
        {
            await events.DisposeAsync();
        }
        scope.Metrics.RecordFinished(stats, finish, System.Diagnostics.Stopwatch.GetElapsedTime(scope.ArrivedAt));
        scope.Activity?.SetTag("gen_ai.usage.input_tokens", prompt.Count);
        scope.Activity?.SetTag("gen_ai.usage.output_tokens", generated);
        scope.Activity?.SetTag("serverv3.finish_reason", finish);
        if (stats is not null)
        {
            scope.Activity?.SetTag("serverv3.queue_time_s", stats.QueueTime.TotalSeconds);
            scope.Activity?.SetTag("serverv3.prefill_time_s", stats.PrefillTime.TotalSeconds);
            scope.Activity?.SetTag("serverv3.decode_time_s", stats.DecodeTime.TotalSeconds);
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
