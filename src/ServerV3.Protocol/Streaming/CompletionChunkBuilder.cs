namespace ServerV3.Protocol;

/// <summary>
/// Builds the chunks of one streaming text completion: <see cref="Text"/> chunks, a
/// <see cref="Finish"/> chunk per choice, then optionally the <see cref="Usage"/> chunk, then
/// <see cref="ServerSentEvents.Done"/>.
/// </summary>
public sealed class CompletionChunkBuilder(string id, string model, long created, string? systemFingerprint = null)
{
    public string Id { get; } = id;

    public string Model { get; } = model;

    public long Created { get; } = created;

    public Completion Text(int choiceIndex, string text, CompletionLogprobs? logprobs = null) =>
        Chunk([new CompletionChoice { Index = choiceIndex, Text = text, Logprobs = logprobs }]);

    /// <summary>The last chunk of a choice: no text and the finish reason.</summary>
    public Completion Finish(int choiceIndex, string finishReason) =>
        Chunk([new CompletionChoice { Index = choiceIndex, Text = "", FinishReason = finishReason }]);

    public Completion Usage(Usage usage) => Chunk([]) with { Usage = usage };

    private Completion Chunk(IReadOnlyList<CompletionChoice> choices) => new()
    {
        Id = Id,
        Created = Created,
        Model = Model,
        SystemFingerprint = systemFingerprint,
        Choices = choices,
    };
}
