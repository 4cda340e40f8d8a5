namespace ServerV3.Protocol;

/// <summary>
/// Body of POST /v1/chat/completions. <c>response_format</c> and other unknown fields are accepted
/// and ignored (they are not declared, so the serializer skips them).
/// </summary>
public sealed record ChatCompletionRequest : GenerationRequest
{
    public IReadOnlyList<ChatMessageParam?>? Messages { get; init; }

    /// <summary>OpenAI's newer name for max_tokens; wins when both are sent.</summary>
    public int? MaxCompletionTokens { get; init; }

    public bool? Logprobs { get; init; }

    public int? TopLogprobs { get; init; }

    public IReadOnlyList<ToolDefinition?>? Tools { get; init; }

    public ToolChoice? ToolChoice { get; init; }
}
