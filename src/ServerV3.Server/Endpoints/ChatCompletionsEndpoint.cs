using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;
using ServerV3.Engine.Runtime;
using ServerV3.Protocol;
using ServerV3.Server.Generation;
using ServerV3.Server.Hosting;
using ServerV3.Server.Resilience;
using ServerV3.Tokenization;
using ServerV3.Tokenization.Jinja;

namespace ServerV3.Server.Endpoints;

/// <summary>POST /v1/chat/completions: the chat template renders the messages (and tools); choices stream as SSE or come back whole.</summary>
public static class ChatCompletionsEndpoint
{
    public static async Task HandleAsync(HttpContext context, ModelService modelService, GenerationGate gate)
    {
        if (await ApiRequest.ReadAsync(context, modelService, ProtocolJsonContext.Relaxed.ChatCompletionRequest, RequestValidator.ValidateChatCompletion)
            is not var (served, request))
            return;
        if (request.Messages.Count > modelService.Options.MaxMessages)
        {
            await HttpIo.WriteErrorAsync(context, ApiError.BadRequest($"at most {modelService.Options.MaxMessages} messages are allowed", "messages"));
            return;
        }
        if (!Render(served, request).TryGetValue(out var prompt, out var error)
            || !RequestValidator.CheckContextLength(prompt.Count, request, served.Limits).TryGetValue(out int maxNewTokens, out error))
        {
            await HttpIo.WriteErrorAsync(context, error);
            return;
        }
        if (!Admit(served, prompt, ChoiceStream.Sampling(request.Generation, maxNewTokens, 0)).TryGetValue(out _, out error))
        {
            await HttpIo.WriteErrorAsync(context, error);
            return;
        }
        await gate.RunAsync(context, "chat.completions", scope =>
        {
            var choices = Enumerable.Range(0, request.Generation.N)
                .Select(i => ChoiceStream.RunAsync(served.Services.Engine, served.Services.Tokenizer, prompt,
                    ChoiceStream.Sampling(request.Generation, maxNewTokens, i), request.Generation.Stop, scope))
                .ToArray();
            var response = new ChatCompletionChunkBuilder(ResponseIds.NewChatCompletionId(), request.Model, DateTimeOffset.UtcNow.ToUnixTimeSeconds());
            return request.Generation.Stream
                ? StreamAsync(context, served, request, prompt.Count, choices, response, scope)
                : CompleteAsync(context, served, request, prompt.Count, choices, response);
        });
    }

    /// <summary>The engine's own admission check, so a request it can never serve gets a 400 before any output.</summary>
    public static ProtocolResult<bool> Admit(ServedModel served, IReadOnlyList<int> prompt, Engine.Sampling.SamplingParams sampling)
    {
        try
        {
            served.Services.Engine.CheckRequest(prompt, sampling);
            return ProtocolResult<bool>.Success(true);
        }
        catch (RequestRejectedException e)
        {
            return ProtocolResult<bool>.Failure(ApiError.BadRequest(e.Message));
        }
    }

    /// <summary>The chat template applied to the messages and tools, tokenized (the template writes BOS itself).</summary>
    public static ProtocolResult<IReadOnlyList<int>> Render(ServedModel served, NormalizedChatRequest request)
    {
        if (served.Services.ChatTemplate is not { } template)
            return ProtocolResult<IReadOnlyList<int>>.Failure(ApiError.BadRequest("the model has no chat_template; use /v1/completions"));
        try
        {
            string text = template.BuildPrompt(Messages(request.Messages), Tools(request.Tools), addGenerationPrompt: true);
            return ProtocolResult<IReadOnlyList<int>>.Success(served.Services.Tokenizer.Encode(text, addSpecialTokens: false));
        }
        catch (JinjaException e)
        {
            return ProtocolResult<IReadOnlyList<int>>.Failure(ApiError.BadRequest($"the chat template rejected the conversation: {e.Message}", "messages"));
        }
    }

    public static IReadOnlyList<ChatMessage> Messages(IReadOnlyList<NormalizedChatMessage> messages) => messages.Select(m => new ChatMessage(m.Role, m.Content)
    {
        ToolCalls = m.ToolCalls.Count == 0 ? null : m.ToolCalls.Select(c => new ChatToolCall(c.Function.Name, c.Function.Arguments) { Id = c.Id }).ToArray(),
        ToolCallId = m.ToolCallId,
        Name = m.Name,
    }).ToArray();

    private static IReadOnlyList<JsonNode>? Tools(IReadOnlyList<FunctionDefinition> tools) => tools.Count == 0 ? null : tools.Select(t => (JsonNode)new JsonObject
    {
        ["type"] = "function",
        ["function"] = new JsonObject
        {
            ["name"] = t.Name,
            ["description"] = t.Description,
            ["parameters"] = t.Parameters is { } parameters ? JsonNode.Parse(parameters.GetRawText()) : null,
        },
    }).ToArray();

    private static async Task CompleteAsync(
        HttpContext context, ServedModel served, NormalizedChatRequest request, int promptTokens, IAsyncEnumerable<ChoicePiece>[] choices, ChatCompletionChunkBuilder ids)
    {
        var results = await Task.WhenAll(choices.Select(async (choice, index) =>
        {
            var result = await ChoiceResult.CollectAsync(choice);
            var (content, calls) = request.ParsesToolCalls ? ToolCallParser.Parse(result.Text) : new ParsedToolCalls(result.Text, []);
            var choiceResult = new ChatCompletionChoice
            {
                Index = index,
                Message = ChatCompletionMessage.Assistant(content, calls),
                Logprobs = served.ChatLogprobs(result.Tokens),
                FinishReason = calls.Count > 0 ? FinishReasons.ToolCalls : result.FinishReason,
            };
            return (Choice: choiceResult, Tokens: result.CompletionTokens);
        }));
        await HttpIo.WriteJsonAsync(context, new ChatCompletion
        {
            Id = ids.Id,
            Created = ids.Created,
            Model = ids.Model,
            Choices = results.Select(r => r.Choice).ToArray(),
            Usage = new Usage(promptTokens, results.Sum(r => r.Tokens)),
        }, ProtocolJsonContext.Relaxed.ChatCompletion);
    }

    private static async Task StreamAsync(
        HttpContext context, ServedModel served, NormalizedChatRequest request, int promptTokens, IAsyncEnumerable<ChoicePiece>[] choices, ChatCompletionChunkBuilder chunks, GenerationScope scope)
    {
        await EventStream.WriteAsync<ChatCompletionChunk>(context,
            events => choices.Select((choice, index) => ProduceAsync(events, choice, index)).ToArray(),
            ServerSentEvents.Format,
            request.Generation.IncludeUsage ? generated => chunks.Usage(new Usage(promptTokens, generated)) : null, scope.Abandon);

        async Task<int> ProduceAsync(ChannelWriter<ChatCompletionChunk> events, IAsyncEnumerable<ChoicePiece> choice, int index)
        {
            var tools = request.ParsesToolCalls ? new ToolCallStreamParser() : null;
            await events.WriteAsync(chunks.Role(index));
            await foreach (var piece in choice)
            {
                if (piece.FinishReason is { } reason)
                {
                    if (tools?.Finish() is { } rest) await events.WriteAsync(chunks.Delta(index, rest));
                    await events.WriteAsync(chunks.Finish(index, tools?.HasToolCalls == true ? FinishReasons.ToolCalls : reason));
                    return piece.CompletionTokens;
                }
                var delta = tools is not null ? tools.Push(piece.Text) : piece.Text.Length > 0 ? new ChatCompletionDelta { Content = piece.Text } : null;
                var logprobs = served.ChatLogprobs(piece.Tokens);
                if (delta is not null || logprobs is not null)
                    await events.WriteAsync(chunks.Delta(index, delta ?? new ChatCompletionDelta { Content = "" }, logprobs));
            }
            return 0;
        }

    }
}
