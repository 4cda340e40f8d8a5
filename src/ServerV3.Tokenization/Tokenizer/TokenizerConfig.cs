using System.Text.Json.Nodes;

namespace ServerV3.Tokenization;

/// <summary>
/// The settings of a Hugging Face <c>tokenizer_config.json</c> that change encoding and chat
/// prompts. Special tokens there may be plain strings or <c>AddedToken</c> objects with "content".
/// </summary>
public sealed record TokenizerConfig
{
    public const string FileName = "tokenizer_config.json";

    public static TokenizerConfig Empty { get; } = new();

    public string? BosToken { get; init; }
    public string? EosToken { get; init; }
    public string? PadToken { get; init; }
    public string? UnkToken { get; init; }

    /// <summary>Whether encoding with special tokens prepends BOS; null when the file does not say.</summary>
    public bool? AddBosToken { get; init; }

    /// <summary>Whether encoding with special tokens appends EOS; null when the file does not say.</summary>
    public bool? AddEosToken { get; init; }

    /// <summary>The Jinja chat template; for a list of named templates, the one named "default".</summary>
    public string? ChatTemplate { get; init; }

    /// <summary>Maximum sequence length; null when absent or "unlimited" (Hugging Face writes 1e30).</summary>
    public int? ModelMaxLength { get; init; }

    public static TokenizerConfig Load(string path) => Parse(File.ReadAllText(path));

    public static TokenizerConfig Parse(string json)
    {
        var root = JsonNode.Parse(json) as JsonObject
            ?? throw new InvalidDataException($"{FileName} must hold a JSON object.");
        return new TokenizerConfig
        {
            BosToken = TokenContent(root["bos_token"]),
            EosToken = TokenContent(root["eos_token"]),
            PadToken = TokenContent(root["pad_token"]),
            UnkToken = TokenContent(root["unk_token"]),
            AddBosToken = root["add_bos_token"]?.GetValue<bool>(),
            AddEosToken = root["add_eos_token"]?.GetValue<bool>(),
            ChatTemplate = ChatTemplateSource(root["chat_template"]),
            ModelMaxLength = root["model_max_length"]?.GetValue<double>() is { } length && length <= int.MaxValue ? (int)length : null,
        };
    }

    private static string? TokenContent(JsonNode? node) => node switch
    {
        null => null,
        JsonObject token => token["content"]?.GetValue<string>(),
        _ => node.GetValue<string>(),
    };

    private static string? ChatTemplateSource(JsonNode? node)
    {
        if (node is not JsonArray named)
            return node?.GetValue<string>();
        var templates = named.OfType<JsonObject>().ToList();
        var chosen = templates.Find(t => t["name"]?.GetValue<string>() == "default") ?? templates.FirstOrDefault();
        return chosen?["template"]?.GetValue<string>();
    }
}
