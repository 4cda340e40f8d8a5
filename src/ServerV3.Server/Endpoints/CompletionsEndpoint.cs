using ServerV3.Protocol;
using ServerV3.Server.Generation;
using ServerV3.Server.Hosting;
using ServerV3.Server.Resilience;

namespace ServerV3.Server.Endpoints;

/// <summary>POST /v1/completions: text or token-id prompts (one or many), n choices each, echo; streamed as SSE or whole.</summary>
public static class CompletionsEndpoint
{
    private sealed record PromptJob(int Index, IReadOnlyList<int> Tokens, string EchoText, int MaxNewTokens);

    public static async Task HandleAsync(HttpContext context, ModelService modelService, GenerationGate gate)
    {
        if (await ApiRequest.ReadAsync(context, modelService, ProtocolJsonContext.Relaxed.CompletionRequest, RequestValidator.ValidateCompletion)
            is not var (served, request))
            return;
        var tokenizer = served.Services.Tokenizer;
        var jobs = new List<PromptJob>();
        foreach (var (prompt, index) in request.Prompts.Select((p, i) => (p, i)))
        {
            var tokens = prompt.TokenIds ?? tokenizer.Encode(prompt.Text ?? "", addSpecialTokens: true);
            if (!RequestValidator.CheckContextLength(tokens.Count, request, served.Limits).TryGetValue(out int maxNew, out var error)
                || !ChatCompletionsEndpoint.Admit(served, tokens, ChoiceStream.Sampling(request.Generation, maxNew, 0)).TryGetValue(out _, out error))
            {
                await HttpIo.WriteErrorAsync(context, error);
                return;
            }
            string echo = request.Echo ? prompt.Text ?? tokenizer.Decode(tokens, skipSpecialTokens: false) : "";
            jobs.Add(new PromptJob(index, tokens, echo, maxNew));
        }
        await gate.RunAsync(context, "completions", scope => GenerateAsync(context, served, request, jobs, scope));
    }

    private static async Task GenerateAsync(HttpContext context, ServedModel served, NormalizedCompletionRequest request, List<PromptJob> jobs, GenerationScope scope)
    {
        var tokenizer = served.Services.Tokenizer;
        int n = request.Generation.N;
        var choices = jobs.SelectMany(job => Enumerable.Range(0, n).Select(sample => (Index: job.Index * n + sample, Job: job,
            Stream: ChoiceStream.RunAsync(served.Services.Engine, tokenizer, job.Tokens,
                ChoiceStream.Sampling(request.Generation, job.MaxNewTokens, sample), request.Generation.Stop, scope)))).ToArray();
        var chunks = new CompletionChunkBuilder(ResponseIds.NewCompletionId(), request.Model, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
        int promptTokens = jobs.Sum(j => j.Tokens.Count);
        if (!request.Generation.Stream)
        {
            var results = await Task.WhenAll(choices.Select(async c =>
            {
                var result = await ChoiceResult.CollectAsync(c.Stream, c.Job.EchoText);
                return (Choice: new CompletionChoice
                {
                    Index = c.Index,
                    Text = result.Text,
                    Logprobs = served.CompletionLogprobs(result.Tokens, c.Job.EchoText.Length),
                    FinishReason = result.FinishReason,
                }, Tokens: result.CompletionTokens);
            }));
            await HttpIo.WriteJsonAsync(context, new Completion
            {
                Id = chunks.Id,
                Created = chunks.Created,
                Model = chunks.Model,
                Choices = results.Select(r => r.Choice).ToArray(),
                Usage = new Usage(promptTokens, results.Sum(r => r.Tokens)),
            }, ProtocolJsonContext.Relaxed.Completion);
            return;
        }
        await EventStream.WriteAsync<Completion>(context, events => choices.Select(async c =>
        {
            int offset = c.Job.EchoText.Length;
            if (offset > 0) await events.WriteAsync(chunks.Text(c.Index, c.Job.EchoText));
            await foreach (var piece in c.Stream)
            {
                if (piece.FinishReason is { } reason)
                {
                    await events.WriteAsync(chunks.Finish(c.Index, reason));
                    return piece.CompletionTokens;
                }
                await events.WriteAsync(chunks.Text(c.Index, piece.Text, served.CompletionLogprobs(piece.Tokens, offset)));
                offset += piece.Text.Length;
            }
            return 0;
        }).ToArray(), ServerSentEvents.Format, request.Generation.IncludeUsage ? generated => chunks.Usage(new Usage(promptTokens, generated)) : null, scope.Abandon);
    }
}
