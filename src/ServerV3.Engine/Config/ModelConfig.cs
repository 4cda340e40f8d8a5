using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServerV3.Engine.Config;

/// <summary>
/// The keys of a Hugging Face DeepSeek-V3 <c>config.json</c> that DeepseekV3ForCausalLM reads. Parsing rejects
/// values the engine does not implement with a message naming the key and the value.
/// </summary>
public sealed record ModelConfig
{
    public required int VocabSize { get; init; }
    public required int HiddenSize { get; init; }
    public required int IntermediateSize { get; init; }
    public required int MoeIntermediateSize { get; init; }
    public required int NumHiddenLayers { get; init; }
    public required int NumNextnPredictLayers { get; init; }
    public required int NumAttentionHeads { get; init; }
    /// <summary>Null means q_proj replaces the q_a/q_b low-rank pair (DeepSeek-V2-Lite).</summary>
    public required int? QLoraRank { get; init; }
    public required int KvLoraRank { get; init; }
    public required int QkNopeHeadDim { get; init; }
    public required int QkRopeHeadDim { get; init; }
    public required int VHeadDim { get; init; }
    public required int NRoutedExperts { get; init; }
    public required int NSharedExperts { get; init; }
    public required int NumExpertsPerTok { get; init; }
    public required int NGroup { get; init; }
    public required int TopkGroup { get; init; }
    public required bool NormTopkProb { get; init; }
    public required double RoutedScalingFactor { get; init; }
    public required int FirstKDenseReplace { get; init; }
    public required int MoeLayerFreq { get; init; }
    public required double RmsNormEps { get; init; }
    public required double RopeTheta { get; init; }
    public required YarnScaling? RopeScaling { get; init; }
    public required int MaxPositionEmbeddings { get; init; }
    public required bool TieWordEmbeddings { get; init; }
    public required int? BosTokenId { get; init; }
    public required IReadOnlyList<int> EosTokenIds { get; init; }
    /// <summary>The FP8 weight block [rows, cols] when <c>quantization_config</c> is fp8; null otherwise.</summary>
    public required IReadOnlyList<int>? Fp8WeightBlockSize { get; init; }

    public int QkHeadDim => QkNopeHeadDim + QkRopeHeadDim;

    /// <summary>Floats cached per token per layer: the latent c_kv and the shared rotated key k_pe.</summary>
    public int LatentCacheWidth => KvLoraRank + QkRopeHeadDim;

    public bool IsMoeLayer(int layer) => layer >= FirstKDenseReplace && layer % MoeLayerFreq == 0;

    public static ModelConfig Load(string path)
    {
        if (!File.Exists(path)) throw new ModelConfigException($"{path}: file not found");
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(File.ReadAllText(path));
        }
        catch (JsonException e)
        {
            throw new ModelConfigException($"{path}: not valid JSON ({e.Message})");
        }
        if (root is not JsonObject json) throw new ModelConfigException($"{path}: expected a JSON object");
        return Parse(json, path);
    }

    public static ModelConfig Parse(JsonObject json, string source)
    {
        var reader = new ConfigReader(json, source);
        reader.Expect("model_type", "deepseek_v3", "kimi_k2");
        reader.Expect("hidden_act", "silu");
        reader.Expect("topk_method", "noaux_tc");
        reader.Expect("scoring_func", "sigmoid");
        if (!reader.Bool("rope_interleave", true))
            throw reader.Unsupported("rope_interleave", "false");
        var config = new ModelConfig
        {
            VocabSize = reader.Int("vocab_size"),
            HiddenSize = reader.Int("hidden_size"),
            IntermediateSize = reader.Int("intermediate_size"),
            MoeIntermediateSize = reader.Int("moe_intermediate_size"),
            NumHiddenLayers = reader.Int("num_hidden_layers"),
            NumNextnPredictLayers = reader.Int("num_nextn_predict_layers", 0),
            NumAttentionHeads = reader.Int("num_attention_heads"),
            QLoraRank = reader.NullableInt("q_lora_rank"),
            KvLoraRank = reader.Int("kv_lora_rank"),
            QkNopeHeadDim = reader.Int("qk_nope_head_dim"),
            QkRopeHeadDim = reader.Int("qk_rope_head_dim"),
            VHeadDim = reader.Int("v_head_dim"),
            NRoutedExperts = reader.Int("n_routed_experts"),
            NSharedExperts = reader.Int("n_shared_experts", 0),
            NumExpertsPerTok = reader.Int("num_experts_per_tok"),
            NGroup = reader.Int("n_group", 1),
            TopkGroup = reader.Int("topk_group", 1),
            NormTopkProb = reader.Bool("norm_topk_prob", false),
            RoutedScalingFactor = reader.Double("routed_scaling_factor", 1.0),
            FirstKDenseReplace = reader.Int("first_k_dense_replace", 0),
            MoeLayerFreq = reader.Int("moe_layer_freq", 1),
            RmsNormEps = reader.Double("rms_norm_eps", 1e-6),
            RopeTheta = reader.Double("rope_theta", 10000),
            RopeScaling = reader.Yarn("rope_scaling"),
            MaxPositionEmbeddings = reader.Int("max_position_embeddings"),
            TieWordEmbeddings = reader.Bool("tie_word_embeddings", false),
            BosTokenId = reader.NullableInt("bos_token_id"),
            EosTokenIds = reader.IntOrList("eos_token_id"),
            Fp8WeightBlockSize = reader.Fp8BlockSize("quantization_config"),
        };
        config.Validate(reader);
        return config;
    }

    private void Validate(ConfigReader reader)
    {
        if (QkRopeHeadDim % 2 != 0) throw reader.Unsupported("qk_rope_head_dim", QkRopeHeadDim, "it must be even");
        if (NRoutedExperts % NGroup != 0) throw reader.Unsupported("n_group", NGroup, $"it must divide n_routed_experts ({NRoutedExperts})");
        if (TopkGroup > NGroup) throw reader.Unsupported("topk_group", TopkGroup, $"it exceeds n_group ({NGroup})");
        if (NumExpertsPerTok > TopkGroup * (NRoutedExperts / NGroup))
            throw reader.Unsupported("num_experts_per_tok", NumExpertsPerTok, "it exceeds the experts in topk_group groups");
        if (MoeLayerFreq < 1) throw reader.Unsupported("moe_layer_freq", MoeLayerFreq, "it must be at least 1");
        if (NumNextnPredictLayers > 1) throw reader.Unsupported("num_nextn_predict_layers", NumNextnPredictLayers, "at most one MTP layer is supported");
        if (TieWordEmbeddings) throw reader.Unsupported("tie_word_embeddings", "true");
    }

    /// <summary>The config.json that Hugging Face would write for this model.</summary>
    public JsonObject ToJson()
    {
        var json = new JsonObject
        {
            ["architectures"] = new JsonArray("DeepseekV3ForCausalLM"),
            ["model_type"] = "deepseek_v3",
            ["attention_bias"] = false,
            ["attention_dropout"] = 0.0,
            ["hidden_act"] = "silu",
            ["vocab_size"] = VocabSize,
            ["hidden_size"] = HiddenSize,
            ["intermediate_size"] = IntermediateSize,
            ["moe_intermediate_size"] = MoeIntermediateSize,
            ["num_hidden_layers"] = NumHiddenLayers,
            ["num_nextn_predict_layers"] = NumNextnPredictLayers,
            ["num_attention_heads"] = NumAttentionHeads,
            ["num_key_value_heads"] = NumAttentionHeads,
            ["q_lora_rank"] = QLoraRank,
            ["kv_lora_rank"] = KvLoraRank,
            ["qk_nope_head_dim"] = QkNopeHeadDim,
            ["qk_rope_head_dim"] = QkRopeHeadDim,
            ["v_head_dim"] = VHeadDim,
            ["n_routed_experts"] = NRoutedExperts,
            ["n_shared_experts"] = NSharedExperts,
            ["num_experts_per_tok"] = NumExpertsPerTok,
            ["n_group"] = NGroup,
            ["topk_group"] = TopkGroup,
            ["topk_method"] = "noaux_tc",
            ["scoring_func"] = "sigmoid",
            ["norm_topk_prob"] = NormTopkProb,
            ["routed_scaling_factor"] = RoutedScalingFactor,
            ["first_k_dense_replace"] = FirstKDenseReplace,
            ["moe_layer_freq"] = MoeLayerFreq,
            ["rms_norm_eps"] = RmsNormEps,
            ["rope_theta"] = RopeTheta,
            ["max_position_embeddings"] = MaxPositionEmbeddings,
            ["tie_word_embeddings"] = TieWordEmbeddings,
            ["bos_token_id"] = BosTokenId,
            ["eos_token_id"] = EosTokenIds.Count == 1 ? EosTokenIds[0] : new JsonArray(EosTokenIds.Select(id => (JsonNode?)id).ToArray()),
            ["torch_dtype"] = "bfloat16",
        };
        if (RopeScaling is { } yarn)
        {
            json["rope_scaling"] = new JsonObject
            {
                ["type"] = "yarn",
                ["factor"] = yarn.Factor,
                ["original_max_position_embeddings"] = yarn.OriginalMaxPositionEmbeddings,
                ["beta_fast"] = yarn.BetaFast,
                ["beta_slow"] = yarn.BetaSlow,
                ["mscale"] = yarn.Mscale,
                ["mscale_all_dim"] = yarn.MscaleAllDim,
            };
        }
        if (Fp8WeightBlockSize is { } block)
        {
            json["quantization_config"] = new JsonObject
            {
                ["activation_scheme"] = "dynamic",
                ["fmt"] = "e4m3",
                ["quant_method"] = "fp8",
                ["weight_block_size"] = new JsonArray(block[0], block[1]),
            };
        }
        return json;
    }
}
