using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace ServerV3.Protocol;

/// <summary>Validates the fields chat and completion requests share and applies their defaults.</summary>
internal static class GenerationOptionsReader
{
    public const int MaxLogprobs = 20;

    /// <param name="maxTokensParam">Which field <paramref name="maxTokens"/> came from, for errors.</param>
    /// <param name="logprobs">Alternatives per token when log probabilities are wanted (already validated).</param>
    public static GenerationOptions Read(GenerationRequest request, int? maxTokens, string maxTokensParam, int? logprobs, ServerLimits limits)
    {
        if (maxTokens is { } max)
        {
            if (max < 1) Fail(ParameterErrors.BelowMinimum(maxTokensParam, 1, max));
            if (limits.MaxTokens is { } limit && max > limit) Fail(ParameterErrors.AboveMaximum(maxTokensParam, limit, max));
        }
        var n = request.N ?? 1;
        if (n < 1) Fail(ParameterErrors.BelowMinimum("n", 1, n));
        if (n > limits.MaxN) Fail(ParameterErrors.AboveMaximum("n", limits.MaxN, n));
        var topK = request.TopK ?? 0;
        if (topK < -1) Fail(ParameterErrors.BelowMinimum("top_k", -1, topK));
        var stream = request.Stream ?? false;
        if (request.StreamOptions is not null && !stream)
            Fail(ParameterErrors.InvalidValue("stream_options", "'stream_options' is only allowed when 'stream' is true."));

        return new GenerationOptions
        {
            MaxTokens = maxTokens,
            N = n,
            Temperature = InRange(request.Temperature, "temperature", 1.0, min: 0, max: 2),
            TopP = InRange(request.TopP, "top_p", 1.0, min: 0, max: 1, minExclusive: true),
            TopK = Math.Max(topK, 0),
            MinP = InRange(request.MinP, "min_p", 0, min: 0, max: 1),
            PresencePenalty = InRange(request.PresencePenalty, "presence_penalty", 0, min: -2, max: 2),
            FrequencyPenalty = InRange(request.FrequencyPenalty, "frequency_penalty", 0, min: -2, max: 2),
            RepetitionPenalty = InRange(request.RepetitionPenalty, "repetition_penalty", 1.0, min: 0, max: double.MaxValue, minExclusive: true),
            Seed = request.Seed,
            LogitBias = ReadLogitBias(request.LogitBias, limits),
            Stop = ReadStop(request.Stop),
            IgnoreEos = request.IgnoreEos ?? false,
            Logprobs = logprobs,
            Stream = stream,
            IncludeUsage = stream && (request.StreamOptions?.IncludeUsage ?? false),
        };
    }

    /// <summary>Checks a count of alternatives per token (top_logprobs, or logprobs of completions).</summary>
    public static int ReadLogprobCount(int count, string param)
    {
        if (count < 0) Fail(ParameterErrors.BelowMinimum(param, 0, count));
        if (count > MaxLogprobs) Fail(ParameterErrors.AboveMaximum(param, MaxLogprobs, count));
        return count;
    }

    /// <summary>Checks token ids against the vocabulary.</summary>
    public static void CheckTokenIds(IReadOnlyList<int> ids, string param, ServerLimits limits)
    {
        foreach (var id in ids)
        {
            if (id < 0 || id >= limits.VocabularySize)
                Fail(ParameterErrors.InvalidValue(param, $"Invalid token id {id} in '{param}': {OutOfVocabulary(limits)}"));
        }
    }

    private static double InRange(double? value, string param, double fallback, double min, double max, bool minExclusive = false)
    {
        if (value is not { } v) return fallback;
        if (v < min || (minExclusive && v == min)) Fail(ParameterErrors.BelowMinimum(param, min, v, minExclusive));
        if (v > max) Fail(ParameterErrors.AboveMaximum(param, max, v));
        return v;
    }

    private static Dictionary<int, double> ReadLogitBias(IReadOnlyDictionary<string, double>? logitBias, ServerLimits limits)
    {
        var biases = new Dictionary<int, double>();
        foreach (var (key, bias) in logitBias ?? new Dictionary<string, double>())
        {
            if (!int.TryParse(key, NumberStyles.None, CultureInfo.InvariantCulture, out var id) || id >= limits.VocabularySize)
                Fail(ParameterErrors.InvalidValue("logit_bias", $"Invalid key '{key}' in 'logit_bias': {OutOfVocabulary(limits)}"));
            if (bias is < -100 or > 100)
                Fail(ParameterErrors.InvalidValue("logit_bias", $"Invalid value for 'logit_bias' key '{key}': expected a bias between -100 and 100, but got {bias} instead."));
            biases[id] = bias;
        }
        return biases;
    }

    private static IReadOnlyList<string> ReadStop(IReadOnlyList<string>? stop)
    {
        if (stop is null) return [];
        if (stop.Any(s => s.Length == 0)) Fail(ParameterErrors.InvalidValue("stop", "Invalid 'stop': stop strings must not be empty."));
        return stop;
    }

    private static string OutOfVocabulary(ServerLimits limits) =>
        limits.VocabularySize is { } size ? $"expected a token id from 0 to {size - 1}." : "expected a non-negative token id.";

    [DoesNotReturn]
    private static void Fail(ApiError error) => throw new InvalidRequestException(error);
}
