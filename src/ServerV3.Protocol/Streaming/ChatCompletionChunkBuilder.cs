namespace ServerV3.Protocol;

/// <summary>
/// Builds the chunks of one streaming chat completion in OpenAI's order: per choice a
/// <see cref="Role"/> chunk, then <see cref="Content"/> / <see cref="Delta"/> chunks, then a
/// <see cref="Finish"/> chunk; then, if asked for, the <see cref="Usage"/> chunk; then
/// <see cref="ServerSentEvents.Done"/>. Every chunk repeats the id, created and model.
/// </summary>
public sealed class ChatCompletionChunkBuilder(string id, string model, long created, string? systemFingerprint = null)
{
    public string Id { get; } = id;

    public string Model { get; } = model;

    public long Created { get; } = created;

    /// <summary>The first chunk of a choice: <c>{"role": "assistant", "content": ""}</c>.</summary>
    public ChatCompletionChunk Role(int choiceIndex) =>
        Delta(choiceIndex, new ChatCompletionDelta { Role = ChatRoles.Assistant, Content = "" });

    public ChatCompletionChunk Content(int choiceIndex, string content, ChatCompletionLogprobs? logprobs = null) =>
        Delta(choiceIndex, new ChatCompletionDelta { Content = content }, logprobs);

    /// <summary>Any delta, e.g. one from <see cref="ToolCallStreamParser"/>.</summary>
    public ChatCompletionChunk Delta(int choiceIndex, ChatCompletionDelta delta, ChatCompletionLogprobs? logprobs = null) =>
        Chunk([new ChatCompletionChunkChoice { Index = choiceIndex, Delta = delta, Logprobs = logprobs }]);

    /// <summary>The last chunk of a choice: an empty delta and the finish reason.</summary>
    public ChatCompletionChunk Finish(int choiceIndex, string finishReason) =>
        Chunk([new ChatCompletionChunkChoice { Index = choiceIndex, Delta = new ChatCompletionDelta(), FinishReason = finishReason }]);

    /// <summary>The usage chunk after all choices finished: empty choices.</summary>
    public ChatCompletionChunk Usage(Usage usage) => Chunk([]) with { Usage = usage };

    private ChatCompletionChunk Chunk(IReadOnlyList<ChatCompletionChunkChoice> choices) => new()
    {
        Id = Id,
        Created = Created,
        Model = Model,
        SystemFingerprint = systemFingerprint,
        Choices = choices,
    };
}
