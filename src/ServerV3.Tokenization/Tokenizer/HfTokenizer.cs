using System.Buffers;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace ServerV3.Tokenization;

/// <summary>
/// A Hugging Face byte-level BPE tokenizer (<c>tokenizer.json</c> + <c>tokenizer_config.json</c>),
/// as used by DeepSeek-V3. Added tokens are matched in the raw text first; the rest goes through
/// the pre-tokenizer regexes and Microsoft.ML.Tokenizers' BPE merges. Thread-safe after loading.
/// </summary>
public sealed class HfTokenizer
{
    private readonly BpeTokenizer _bpe;
    private readonly AddedTokenMatcher _addedTokenMatcher;
    private readonly Dictionary<string, int> _tokenToId;
    private readonly string?[] _idToToken;
    private readonly byte[]?[] _idToBytes;
    private readonly bool[] _isSpecial;
    private readonly int[] _prefixIds;
    private readonly int[] _suffixIds;

    private HfTokenizer(TokenizerDefinition definition, TokenizerConfig config)
    {
        Config = config;
        AddedTokens = definition.AddedTokens;
        _bpe = BpeTokenizer.Create(new BpeOptions(definition.Vocabulary)
        {
            Merges = definition.Merges,
            ByteLevel = true,
            PreTokenizer = new SplitSequencePreTokenizer(definition.PreTokenizerSteps),
            UnknownToken = definition.UnknownToken,
            ContinuingSubwordPrefix = definition.ContinuingSubwordPrefix,
            EndOfWordSuffix = definition.EndOfWordSuffix,
            FuseUnknownTokens = definition.FuseUnknownTokens,
        });
        _addedTokenMatcher = new AddedTokenMatcher(definition.AddedTokens);

        _tokenToId = new Dictionary<string, int>(definition.Vocabulary, StringComparer.Ordinal);
        foreach (var token in definition.AddedTokens)
            _tokenToId[token.Content] = token.Id;
        VocabSize = _tokenToId.Count == 0 ? 0 : _tokenToId.Values.Max() + 1;

        _idToToken = new string?[VocabSize];
        _idToBytes = new byte[]?[VocabSize];
        _isSpecial = new bool[VocabSize];
        foreach (var (token, id) in _tokenToId)
        {
            _idToToken[id] = token;
            _idToBytes[id] = ByteLevelAlphabet.TokenToBytes(token);
        }
        foreach (var token in definition.AddedTokens)
            _isSpecial[token.Id] = token.IsSpecial;

        BosTokenId = config.BosToken is null ? null : TokenToId(config.BosToken);
        EosTokenId = config.EosToken is null ? null : TokenToId(config.EosToken);
        // Like transformers' LlamaTokenizerFast: add_bos_token/add_eos_token in the config replace
        // the template of tokenizer.json's post-processor.
        _prefixIds = config.AddBosToken is { } addBos
            ? (addBos && BosTokenId is { } bos ? [bos] : [])
            : [.. definition.TemplatePrefix.Select(RequireId)];
        _suffixIds = config.AddEosToken is { } addEos
            ? (addEos && EosTokenId is { } eos ? [eos] : [])
            : [.. definition.TemplateSuffix.Select(RequireId)];
    }

    public TokenizerConfig Config { get; }

    /// <summary>Highest token id plus one (the model's embedding table may be larger).</summary>
    public int VocabSize { get; }

    public IReadOnlyList<AddedToken> AddedTokens { get; }

    public string? BosToken => Config.BosToken;
    public string? EosToken => Config.EosToken;
    public int? BosTokenId { get; }
    public int? EosTokenId { get; }

    /// <summary>The Jinja chat template of tokenizer_config.json, if any.</summary>
    public string? ChatTemplate => Config.ChatTemplate;

    public int? ModelMaxLength => Config.ModelMaxLength;

    /// <summary>Loads <c>tokenizer.json</c> and, when present, <c>tokenizer_config.json</c> from a model directory.</summary>
    public static HfTokenizer Load(string modelDirectory)
    {
        var configPath = Path.Combine(modelDirectory, TokenizerConfig.FileName);
        return Load(Path.Combine(modelDirectory, TokenizerDefinition.FileName), File.Exists(configPath) ? configPath : null);
    }

    public static HfTokenizer Load(string tokenizerJsonPath, string? tokenizerConfigPath)
    {
        var config = tokenizerConfigPath is null ? TokenizerConfig.Empty : TokenizerConfig.Load(tokenizerConfigPath);
        return new HfTokenizer(TokenizerDefinition.Load(tokenizerJsonPath), config);
    }

    /// <summary>
    /// Encodes text. With <paramref name="addSpecialTokens"/> the BOS/EOS the tokenizer is set up
    /// to add are included; chat prompts already contain them and use false.
    /// </summary>
    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>(text.Length / 3 + 4);
        if (addSpecialTokens)
            ids.AddRange(_prefixIds);
        foreach (var segment in _addedTokenMatcher.Split(text))
        {
            if (segment.TokenId == AddedTokenMatcher.TextSegment)
                ids.AddRange(_bpe.EncodeToIds(text.AsSpan(segment.Start, segment.Length)));
            else
                ids.Add(segment.TokenId);
        }
        if (addSpecialTokens)
            ids.AddRange(_suffixIds);
        return ids;
    }

    /// <summary>
    /// Decodes ids to text; invalid UTF-8 becomes U+FFFD. Ids without a token are skipped, as in
    /// Hugging Face (a model's vocabulary may be padded beyond the tokenizer's).
    /// </summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new ArrayBufferWriter<byte>();
        foreach (var id in ids)
        {
            if (!(skipSpecialTokens && IsSpecialToken(id)))
                bytes.Write(GetTokenBytes(id));
        }
        return Encoding.UTF8.GetString(bytes.WrittenSpan);
    }

    /// <summary>The id of a vocabulary entry (byte-level form, e.g. "Ġthe") or added token.</summary>
    public int? TokenToId(string token) => _tokenToId.TryGetValue(token, out var id) ? id : null;

    /// <summary>The vocabulary entry (byte-level form) or added token of an id.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)VocabSize ? _idToToken[id] : null;

    /// <summary>Whether the id is an added token flagged special (BOS, EOS, pad...).</summary>
    public bool IsSpecialToken(int id) => (uint)id < (uint)VocabSize && _isSpecial[id];

    /// <summary>The UTF-8 bytes a token stands for (possibly part of a character); empty for unknown ids.</summary>
    public ReadOnlySpan<byte> GetTokenBytes(int id) => (uint)id < (uint)VocabSize ? _idToBytes[id] : default;

    /// <summary>A decoder for a stream of generated ids that only ever returns whole characters.</summary>
    public IncrementalDetokenizer CreateIncrementalDetokenizer(bool skipSpecialTokens) => new(this, skipSpecialTokens);

    private int RequireId(string token) =>
        TokenToId(token) ?? throw new InvalidDataException($"{TokenizerDefinition.FileName}: post-processor token '{token}' is not in the vocabulary.");
}
