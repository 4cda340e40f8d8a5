using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>
/// The <c>prompt</c> of a completion request: a string, a list of strings, a list of token ids, or a
/// list of lists of token ids. <see cref="IsBatch"/> is false for the single forms (a string or one
/// id list); a batch yields one set of choices per input.
/// </summary>
[JsonConverter(typeof(CompletionPromptConverter))]
public sealed record CompletionPrompt(IReadOnlyList<PromptInput> Inputs, bool IsBatch);
