namespace ServerV3.Tokenization;

/// <summary>
/// A tool call made by the assistant, OpenAI style: <paramref name="Arguments"/> is the JSON text
/// of the arguments, passed to the template unchanged (as Hugging Face does).
/// </summary>
public sealed record ChatToolCall(string FunctionName, string Arguments)
{
    public string? Id { get; init; }

    public string Type { get; init; } = "function";
}
