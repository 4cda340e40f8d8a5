namespace ServerV3.Protocol;

/// <summary>
/// Turns parsed requests into normalized ones or the first <see cref="ApiError"/> found (the model
/// is checked first, so an unknown model is a 404 whatever else is wrong). The context-length check
/// needs the prompt's token count, so the server calls <c>CheckContextLength</c> after tokenizing.
/// </summary>
public static class RequestValidator
{
    public static ProtocolResult<NormalizedChatRequest> ValidateChatCompletion(ChatCompletionRequest request, ServerLimits limits) =>
        Run(limits, () =>
        {
            var model = ResolveModelOrThrow(request.Model, limits);
            var messages = ChatMessageReader.Read(request.Messages);
            var tools = ToolReader.ReadTools(request.Tools);
            var toolChoice = ToolReader.ReadToolChoice(request.ToolChoice, tools);
            if (request.TopLogprobs is not null && request.Logprobs != true)
                throw new InvalidRequestException(ParameterErrors.InvalidValue("top_logprobs", "'top_logprobs' requires 'logprobs' to be true."));
            int? logprobs = request.Logprobs == true ? GenerationOptionsReader.ReadLogprobCount(request.TopLogprobs ?? 0, "top_logprobs") : null;
            var generation = request.MaxCompletionTokens is { } maxCompletionTokens
                ? GenerationOptionsReader.Read(request, maxCompletionTokens, "max_completion_tokens", logprobs, limits)
                : GenerationOptionsReader.Read(request, request.MaxTokens, "max_tokens", logprobs, limits);
            return new NormalizedChatRequest(model, messages, tools, toolChoice, generation);
        });

    public static ProtocolResult<NormalizedCompletionRequest> ValidateCompletion(CompletionRequest request, ServerLimits limits) =>
        Run(limits, () =>
        {
            var model = ResolveModelOrThrow(request.Model, limits);
            if (request.Suffix is not null) throw new InvalidRequestException(ParameterErrors.Unsupported("suffix", "suffix is not supported."));
            var prompts = ReadPrompts(request.Prompt, limits);
            int? logprobs = request.Logprobs is { } count ? GenerationOptionsReader.ReadLogprobCount(count, "logprobs") : null;
            var generation = GenerationOptionsReader.Read(request, request.MaxTokens, "max_tokens", logprobs, limits);
            return new NormalizedCompletionRequest(model, prompts, request.Echo ?? false, generation);
        });

    public static ProtocolResult<NormalizedTokenizeRequest> ValidateTokenize(TokenizeRequest request, ServerLimits limits) =>
        Run(limits, () =>
        {
            var model = ResolveModelOrThrow(request.Model, limits);
            if (request.Prompt is not null && request.Messages is not null)
                throw new InvalidRequestException(ParameterErrors.InvalidValue("messages", "Give either 'prompt' or 'messages', not both."));
            if (request.Prompt is { } prompt)
                return new NormalizedTokenizeRequest(model, prompt, null, AddGenerationPrompt: false, request.AddSpecialTokens ?? true);
            if (request.Messages is null) throw new InvalidRequestException(ParameterErrors.Missing("prompt"));
            return new NormalizedTokenizeRequest(
                model, null, ChatMessageReader.Read(request.Messages), request.AddGenerationPrompt ?? true, request.AddSpecialTokens ?? false);
        });

    public static ProtocolResult<NormalizedDetokenizeRequest> ValidateDetokenize(DetokenizeRequest request, ServerLimits limits) =>
        Run(limits, () =>
        {
            var model = ResolveModelOrThrow(request.Model, limits);
            var tokens = request.Tokens ?? throw new InvalidRequestException(ParameterErrors.Missing("tokens"));
            GenerationOptionsReader.CheckTokenIds(tokens, "tokens", limits);
            return new NormalizedDetokenizeRequest(model, tokens);
        });

    /// <summary>The served name a request's model refers to (the default when null), or 404 model_not_found.</summary>
    public static ProtocolResult<string> ResolveModel(string? model, ServerLimits limits) =>
        Run(limits, () => ResolveModelOrThrow(model, limits));

    /// <summary>
    /// Checks that a chat prompt of <paramref name="promptTokens"/> tokens leaves room to generate,
    /// and returns how many tokens to generate at most: max_tokens if given, otherwise the rest of the
    /// context (capped by <see cref="ServerLimits.MaxTokens"/>).
    /// </summary>
    public static ProtocolResult<int> CheckContextLength(int promptTokens, NormalizedChatRequest request, ServerLimits limits) =>
        CheckContextLength(promptTokens, request.Generation.MaxTokens, limits, "messages");

    /// <summary>As for chat, per prompt of a completion request.</summary>
    public static ProtocolResult<int> CheckContextLength(int promptTokens, NormalizedCompletionRequest request, ServerLimits limits) =>
        CheckContextLength(promptTokens, request.Generation.MaxTokens, limits, "prompt");

    private static ProtocolResult<int> CheckContextLength(int promptTokens, int? maxTokens, ServerLimits limits, string promptParam)
    {
        ArgumentNullException.ThrowIfNull(limits);
        var contextLength = limits.MaxModelLength;
        if (promptTokens >= contextLength)
        {
            return ContextLengthExceeded(
                $"This model's maximum context length is {contextLength} tokens. However, your {promptParam} resulted in {promptTokens} tokens. Please reduce the length of the {promptParam}.",
                promptParam);
        }
        if (promptTokens + maxTokens > contextLength)
        {
            return ContextLengthExceeded(
                $"This model's maximum context length is {contextLength} tokens. However, you requested {promptTokens + maxTokens} tokens ({promptTokens} in the {promptParam}, {maxTokens} in the completion). Please reduce the length of the {promptParam} or completion.",
                promptParam);
        }
        var room = contextLength - promptTokens;
        return ProtocolResult<int>.Success(maxTokens ?? Math.Min(room, limits.MaxTokens ?? room));
    }

    private static ProtocolResult<int> ContextLengthExceeded(string message, string param) =>
        ProtocolResult<int>.Failure(ApiError.BadRequest(message, param, "context_length_exceeded"));

    private static IReadOnlyList<PromptInput> ReadPrompts(CompletionPrompt? prompt, ServerLimits limits)
    {
        if (prompt is null) throw new InvalidRequestException(ParameterErrors.Missing("prompt"));
        if (prompt.Inputs.Count == 0) throw new InvalidRequestException(ParameterErrors.EmptyArray("prompt"));
        for (var i = 0; i < prompt.Inputs.Count; i++)
        {
            if (prompt.Inputs[i].TokenIds is not { } ids) continue;
            var param = prompt.IsBatch ? $"prompt[{i}]" : "prompt";
            if (ids.Count == 0) throw new InvalidRequestException(ParameterErrors.EmptyArray(param));
            GenerationOptionsReader.CheckTokenIds(ids, param, limits);
        }
        return prompt.Inputs;
    }

    private static string ResolveModelOrThrow(string? model, ServerLimits limits)
    {
        if (model is null) return limits.ServedModelNames[0];
        return limits.ServedModelNames.Contains(model, StringComparer.Ordinal)
            ? model
            : throw new InvalidRequestException(ApiError.ModelNotFound(model));
    }

    private static ProtocolResult<T> Run<T>(ServerLimits limits, Func<T> validate)
        where T : notnull
    {
        ArgumentNullException.ThrowIfNull(limits);
        try
        {
            return ProtocolResult<T>.Success(validate());
        }
        catch (InvalidRequestException invalid)
        {
            return ProtocolResult<T>.Failure(invalid.Error);
        }
    }
}
