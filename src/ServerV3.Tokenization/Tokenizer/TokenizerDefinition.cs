using System.Text.Json;
using System.Text.RegularExpressions;

namespace ServerV3.Tokenization;

/// <summary>
/// The parts of a Hugging Face <c>tokenizer.json</c> that a byte-level BPE tokenizer needs.
/// Anything this library would get wrong (other models, normalizers, split behaviors) is rejected
/// with <see cref="NotSupportedException"/> instead of silently encoding differently.
/// </summary>
internal sealed class TokenizerDefinition
{
    public const string FileName = "tokenizer.json";

    // GPT-2's split, which a ByteLevel pre-tokenizer applies when "use_regex" is true.
    private const string Gpt2SplitPattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    public required Dictionary<string, int> Vocabulary { get; init; }
    public required List<string> Merges { get; init; }
    public required List<AddedToken> AddedTokens { get; init; }
    public required List<IsolatedRegexSplit> PreTokenizerSteps { get; init; }
    public string? UnknownToken { get; init; }
    public string? ContinuingSubwordPrefix { get; init; }
    public string? EndOfWordSuffix { get; init; }
    public bool FuseUnknownTokens { get; init; }

    /// <summary>Tokens the post-processor's template puts before the text (usually BOS).</summary>
    public required List<string> TemplatePrefix { get; init; }

    /// <summary>Tokens the post-processor's template puts after the text (usually EOS).</summary>
    public required List<string> TemplateSuffix { get; init; }

    public static TokenizerDefinition Load(string path)
    {
        using var stream = File.OpenRead(path);
        using var document = JsonDocument.Parse(stream);
        var root = document.RootElement;

        var model = root.GetProperty("model");
        if (OptionalString(model, "type") is { } type && type != "BPE")
            throw Unsupported($"model type '{type}' (only BPE)");
        if (OptionalBool(model, "byte_fallback"))
            throw Unsupported("BPE byte_fallback");
        if (OptionalBool(model, "ignore_merges"))
            throw Unsupported("BPE ignore_merges");
        CheckNormalizer(Optional(root, "normalizer"));
        CheckDecoder(Optional(root, "decoder"));

        var steps = new List<IsolatedRegexSplit>();
        if (!CollectPreTokenizerSteps(Optional(root, "pre_tokenizer"), steps))
            throw Unsupported("a pre-tokenizer without ByteLevel (only byte-level BPE)");

        var prefix = new List<string>();
        var suffix = new List<string>();
        ReadTemplate(Optional(root, "post_processor"), prefix, suffix);

        return new TokenizerDefinition
        {
            Vocabulary = ReadVocabulary(model.GetProperty("vocab")),
            Merges = ReadMerges(model.GetProperty("merges")),
            AddedTokens = ReadAddedTokens(Optional(root, "added_tokens")),
            PreTokenizerSteps = steps,
            UnknownToken = OptionalString(model, "unk_token"),
            ContinuingSubwordPrefix = OptionalString(model, "continuing_subword_prefix"),
            EndOfWordSuffix = OptionalString(model, "end_of_word_suffix"),
            FuseUnknownTokens = OptionalBool(model, "fuse_unk"),
            TemplatePrefix = prefix,
            TemplateSuffix = suffix,
        };
    }

    private static Dictionary<string, int> ReadVocabulary(JsonElement vocab)
    {
        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var entry in vocab.EnumerateObject())
            result[entry.Name] = entry.Value.GetInt32();
        return result;
    }

    // Merges are "a b" strings in older files and ["a", "b"] pairs in newer ones.
    private static List<string> ReadMerges(JsonElement merges)
    {
        var result = new List<string>(merges.GetArrayLength());
        foreach (var merge in merges.EnumerateArray())
        {
            if (merge.ValueKind == JsonValueKind.String)
            {
                result.Add(merge.GetString()!);
                continue;
            }
            var left = merge[0].GetString()!;
            var right = merge[1].GetString()!;
            if (left.Contains(' ', StringComparison.Ordinal) || right.Contains(' ', StringComparison.Ordinal))
                throw Unsupported("merges of tokens containing a space");
            result.Add(left + " " + right);
        }
        return result;
    }

    private static List<AddedToken> ReadAddedTokens(JsonElement? tokens)
    {
        var result = new List<AddedToken>();
        if (tokens is not { ValueKind: JsonValueKind.Array } array)
            return result;
        foreach (var token in array.EnumerateArray())
        {
            result.Add(new AddedToken(
                token.GetProperty("id").GetInt32(),
                token.GetProperty("content").GetString()!,
                OptionalBool(token, "special"),
                OptionalBool(token, "lstrip"),
                OptionalBool(token, "rstrip"),
                OptionalBool(token, "single_word")));
        }
        return result;
    }

    private static void CheckNormalizer(JsonElement? normalizer)
    {
        if (normalizer is not { ValueKind: JsonValueKind.Object } n)
            return;
        var type = OptionalString(n, "type");
        if (type == "Sequence" && n.GetProperty("normalizers").GetArrayLength() == 0)
            return;
        throw Unsupported($"normalizer '{type}'");
    }

    private static void CheckDecoder(JsonElement? decoder)
    {
        if (decoder is not { ValueKind: JsonValueKind.Object } d || OptionalString(d, "type") != "ByteLevel")
            throw Unsupported("a decoder other than ByteLevel");
    }

    /// <summary>Flattens the pre-tokenizer into regex steps; returns whether it is byte-level.</summary>
    private static bool CollectPreTokenizerSteps(JsonElement? preTokenizer, List<IsolatedRegexSplit> steps)
    {
        if (preTokenizer is not { ValueKind: JsonValueKind.Object } p)
            return false;
        switch (OptionalString(p, "type"))
        {
            case "Sequence":
                var byteLevel = false;
                foreach (var inner in p.GetProperty("pretokenizers").EnumerateArray())
                    byteLevel |= CollectPreTokenizerSteps(inner, steps);
                return byteLevel;
            case "Split":
                if (OptionalString(p, "behavior") != "Isolated" || OptionalBool(p, "invert"))
                    throw Unsupported("Split behaviors other than Isolated");
                var pattern = p.GetProperty("pattern");
                var source = OptionalString(pattern, "Regex") ?? Regex.Escape(pattern.GetProperty("String").GetString()!);
                steps.Add(new IsolatedRegexSplit(CompilePattern(source)));
                return false;
            case "ByteLevel":
                if (OptionalBool(p, "add_prefix_space"))
                    throw Unsupported("ByteLevel add_prefix_space");
                if (OptionalBool(p, "use_regex", defaultValue: true))
                    steps.Add(new IsolatedRegexSplit(CompilePattern(Gpt2SplitPattern)));
                return true;
            case var other:
                throw Unsupported($"pre-tokenizer '{other}'");
        }
    }

    private static Regex CompilePattern(string source)
    {
        try
        {
            return new Regex(source, RegexOptions.Compiled | RegexOptions.CultureInvariant);
        }
        catch (ArgumentException e)
        {
            throw new NotSupportedException($"{FileName}: the pre-tokenizer pattern /{source}/ is not valid .NET regex syntax: {e.Message}", e);
        }
    }

    // TemplateProcessing's "single" list: [SpecialToken..., Sequence A, SpecialToken...].
    private static void ReadTemplate(JsonElement? postProcessor, List<string> prefix, List<string> suffix)
    {
        if (postProcessor is not { ValueKind: JsonValueKind.Object } p)
            return;
        if (OptionalString(p, "type") == "Sequence")
        {
            foreach (var inner in p.GetProperty("processors").EnumerateArray())
                ReadTemplate(inner, prefix, suffix);
            return;
        }
        if (OptionalString(p, "type") != "TemplateProcessing")
            return;
        var target = prefix;
        foreach (var item in p.GetProperty("single").EnumerateArray())
        {
            if (item.TryGetProperty("Sequence", out _))
                target = suffix;
            else if (item.TryGetProperty("SpecialToken", out var special))
                target.Add(special.GetProperty("id").GetString()!);
        }
    }

    private static JsonElement? Optional(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;

    private static string? OptionalString(JsonElement element, string name) =>
        Optional(element, name) is { ValueKind: JsonValueKind.String } value ? value.GetString() : null;

    private static bool OptionalBool(JsonElement element, string name, bool defaultValue = false) =>
        Optional(element, name) is { } value ? value.ValueKind == JsonValueKind.True : defaultValue;

    private static NotSupportedException Unsupported(string feature) =>
        new($"{FileName}: {feature} is not supported by this tokenizer.");
}
