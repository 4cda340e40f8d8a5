using System.Text.Json.Serialization;

namespace ServerV3.Protocol;

/// <summary>
/// The fields chat and text completion requests share: OpenAI's sampling and output fields plus
/// vLLM's extensions (top_k, min_p, repetition_penalty, ignore_eos). Every field is nullable so
/// that parsing never fails on a missing field; <see cref="RequestValidator"/> applies defaults.
/// </summary>
public abstract record GenerationRequest
{
    public string? Model { get; init; }

    public int? MaxTokens { get; init; }

    public double? Temperature { get; init; }

    public double? TopP { get; init; }

    public int? TopK { get; init; }

    public double? MinP { get; init; }

    public int? N { get; init; }

    /// <summary>A single string or a list of strings on the wire.</summary>
    [JsonConverter(typeof(StopSequencesConverter))]
    public IReadOnlyList<string>? Stop { get; init; }

    public long? Seed { get; init; }

    public double? PresencePenalty { get; init; }

    public double? FrequencyPenalty { get; init; }

    public double? RepetitionPenalty { get; init; }

    /// <summary>Token id (as a decimal string) to a bias in [-100, 100].</summary>
    public IReadOnlyDictionary<string, double>? LogitBias { get; init; }

    public bool? Stream { get; init; }

    public StreamOptions? StreamOptions { get; init; }

    public bool? IgnoreEos { get; init; }

    /// <summary>Accepted for compatibility and ignored.</summary>
    public string? User { get; init; }
}
