namespace ServerV3.Engine.Sampling;

/// <summary>How one request's tokens are chosen and when it stops (OpenAI's and vLLM's sampling fields).</summary>
public sealed record SamplingParams
{
    /// <summary>0 means greedy (argmax of the processed logits).</summary>
    public float Temperature { get; init; } = 1;
    public float TopP { get; init; } = 1;
    /// <summary>0 or less disables top-k.</summary>
    public int TopK { get; init; }
    public float MinP { get; init; }
    public float PresencePenalty { get; init; }
    public float FrequencyPenalty { get; init; }
    /// <summary>Hugging Face's multiplicative penalty over prompt and output tokens; 1 disables it.</summary>
    public float RepetitionPenalty { get; init; } = 1;
    public IReadOnlyDictionary<int, float> LogitBias { get; init; } = new Dictionary<int, float>();
    /// <summary>Same seed and request ⇒ same tokens, whatever else shares the batch. Null draws a seed.</summary>
    public long? Seed { get; init; }
    public int MaxTokens { get; init; } = 16;
    public IReadOnlyCollection<int> StopTokenIds { get; init; } = [];
    public bool IgnoreEos { get; init; }
    /// <summary>Number of top alternatives to report per token; null reports no logprobs.</summary>
    public int? TopLogprobs { get; init; }

    public bool IsGreedy => Temperature == 0;

    /// <summary>Whether a penalty reads the tokens so far (repetition over prompt and output, frequency and presence over output).</summary>
    public bool HasPenalties => RepetitionPenalty != 1 || FrequencyPenalty != 0 || PresencePenalty != 0;
}
