using System.Runtime.InteropServices;
using System.Text.Json;
using System.Text.Json.Nodes;
using ServerV3.Engine.Config;
using ServerV3.Kernels.Weights;

namespace ServerV3.Engine.ModelLoading;

/// <summary>
/// Writes a randomly initialised checkpoint in exactly the Hugging Face DeepSeek-V3 format (config.json, three
/// safetensors shards and their index, real tensor names including the MTP layer), so tests and benchmarks can
/// use models of any shape. Matrices are uniform with variance 1/fan_in (residual outputs scaled down by the
/// depth) and norms are one, which keeps activations and logits of order one at every depth.
/// </summary>
public static class RandomCheckpoint
{
    private const string IndexFile = Checkpoint.IndexFileName;

    public static void Write(ModelConfig config, string directory, int seed, bool fp8)
    {
        if (fp8) config = config with { Fp8WeightBlockSize = [Fp8BlockMatrix.BlockSize, Fp8BlockMatrix.BlockSize] };
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "config.json"), config.ToJson().ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        var random = new Random(seed);
        int half = (config.NumHiddenLayers + 1) / 2;
        List<List<TensorSpec>> shards =
        [
            [Matrix("model.embed_tokens.weight", config.VocabSize, config.HiddenSize, 1f, quantizable: false),
             .. Enumerable.Range(0, half).SelectMany(l => Layer(config, l))],
            [.. Enumerable.Range(half, config.NumHiddenLayers - half).SelectMany(l => Layer(config, l)),
             Norm("model.norm.weight", config.HiddenSize),
             Matrix("lm_head.weight", config.VocabSize, config.HiddenSize, 1f, quantizable: false)],
        ];
        if (config.NumNextnPredictLayers > 0) shards.Add(Mtp(config));
        var weightMap = new JsonObject();
        long totalSize = 0;
        for (int s = 0; s < shards.Count; s++)
        {
            string file = $"model-{s + 1:D5}-of-{shards.Count:D5}.safetensors";
            var entries = shards[s].SelectMany(spec => Materialise(spec, random, fp8)).ToList();
            SafetensorsWriter.Write(Path.Combine(directory, file), entries, new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var entry in entries)
            {
                weightMap[entry.Name] = file;
                totalSize += entry.Data.LongLength;
            }
        }
        var index = new JsonObject { ["metadata"] = new JsonObject { ["total_size"] = totalSize }, ["weight_map"] = weightMap };
        File.WriteAllText(Path.Combine(directory, IndexFile), index.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    private enum Kind { Matrix, Norm, Bias }

    private sealed record TensorSpec(string Name, Kind Kind, int Rows, int Cols, float Scale, bool Quantizable);

    private static TensorSpec Matrix(string name, int rows, int cols, float scale, bool quantizable = true) =>
        new(name, Kind.Matrix, rows, cols, scale, quantizable);

    private static TensorSpec Norm(string name, int length) => new(name, Kind.Norm, 1, length, 1, false);

    private static IEnumerable<TensorSpec> Layer(ModelConfig c, int layer)
    {
        string p = $"model.layers.{layer}.";
        int h = c.HiddenSize, heads = c.NumAttentionHeads;
        // Residual branches are scaled down with depth, as in GPT-2-style initialisation.
        float residual = 1f / MathF.Sqrt(2 * (c.NumHiddenLayers + c.NumNextnPredictLayers));
        yield return Norm($"{p}input_layernorm.weight", h);
        if (c.QLoraRank is { } rank)
        {
            yield return Matrix($"{p}self_attn.q_a_proj.weight", rank, h, 1);
            yield return Norm($"{p}self_attn.q_a_layernorm.weight", rank);
            yield return Matrix($"{p}self_attn.q_b_proj.weight", heads * c.QkHeadDim, rank, 1);
        }
        else
        {
            yield return Matrix($"{p}self_attn.q_proj.weight", heads * c.QkHeadDim, h, 1);
        }
        yield return Matrix($"{p}self_attn.kv_a_proj_with_mqa.weight", c.LatentCacheWidth, h, 1);
        yield return Norm($"{p}self_attn.kv_a_layernorm.weight", c.KvLoraRank);
        yield return Matrix($"{p}self_attn.kv_b_proj.weight", heads * (c.QkNopeHeadDim + c.VHeadDim), c.KvLoraRank, 1);
        yield return Matrix($"{p}self_attn.o_proj.weight", h, heads * c.VHeadDim, residual);
        yield return Norm($"{p}post_attention_layernorm.weight", h);
        if (!c.IsMoeLayer(layer))
        {
            foreach (var t in Mlp($"{p}mlp.", h, c.IntermediateSize, residual)) yield return t;
            yield break;
        }
        yield return Matrix($"{p}mlp.gate.weight", c.NRoutedExperts, h, 1, quantizable: false);
        yield return new TensorSpec($"{p}mlp.gate.e_score_correction_bias", Kind.Bias, 1, c.NRoutedExperts, 0.1f, false);
        for (int e = 0; e < c.NRoutedExperts; e++)
            foreach (var t in Mlp($"{p}mlp.experts.{e}.", h, c.MoeIntermediateSize, residual)) yield return t;
        if (c.NSharedExperts > 0)
            foreach (var t in Mlp($"{p}mlp.shared_experts.", h, c.NSharedExperts * c.MoeIntermediateSize, residual)) yield return t;
    }

    private static IEnumerable<TensorSpec> Mlp(string prefix, int hidden, int intermediate, float residual)
    {
        yield return Matrix($"{prefix}gate_proj.weight", intermediate, hidden, 1);
        yield return Matrix($"{prefix}up_proj.weight", intermediate, hidden, 1);
        yield return Matrix($"{prefix}down_proj.weight", hidden, intermediate, residual);
    }

    private static List<TensorSpec> Mtp(ModelConfig c)
    {
        string p = $"model.layers.{c.NumHiddenLayers}.";
        int h = c.HiddenSize;
        return
        [
            Matrix($"{p}embed_tokens.weight", c.VocabSize, h, 1, quantizable: false),
            Norm($"{p}enorm.weight", h),
            Norm($"{p}hnorm.weight", h),
            Matrix($"{p}eh_proj.weight", h, 2 * h, 1, quantizable: false),
            .. Layer(c, c.NumHiddenLayers),
            Norm($"{p}shared_head.norm.weight", h),
            Matrix($"{p}shared_head.head.weight", c.VocabSize, h, 1, quantizable: false),
        ];
    }

    private static IEnumerable<SafetensorsWriter.Entry> Materialise(TensorSpec spec, Random random, bool fp8)
    {
        long[] shape = spec.Kind == Kind.Matrix ? [spec.Rows, spec.Cols] : [spec.Cols];
        var values = new float[(long)spec.Rows * spec.Cols];
        switch (spec.Kind)
        {
            case Kind.Norm:
                Array.Fill(values, 1f);
                break;
            case Kind.Bias:
                for (int i = 0; i < values.Length; i++) values[i] = random.NextSingle() * spec.Scale;
                yield return new SafetensorsWriter.Entry(spec.Name, SafetensorsDType.F32, shape, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
                yield break;
            default:
                // Uniform on [-a, a] has variance a²/3; a = sqrt(3 / fan_in) gives variance 1 / fan_in.
                float bound = spec.Scale * MathF.Sqrt(3f / spec.Cols);
                for (int i = 0; i < values.Length; i++) values[i] = (random.NextSingle() * 2 - 1) * bound;
                break;
        }
        if (fp8 && spec.Quantizable)
        {
            var (bits, scales, scaleShape) = QuantizeFp8(values, spec.Rows, spec.Cols);
            yield return new SafetensorsWriter.Entry(spec.Name, SafetensorsDType.F8_E4M3, shape, bits);
            yield return new SafetensorsWriter.Entry(spec.Name + WeightLoader.ScaleSuffix, SafetensorsDType.F32, scaleShape,
                MemoryMarshal.AsBytes(scales.AsSpan()).ToArray());
            yield break;
        }
        var bf16 = new ushort[values.Length];
        for (int i = 0; i < values.Length; i++) bf16[i] = BFloat16.FromSingle(values[i]);
        yield return new SafetensorsWriter.Entry(spec.Name, SafetensorsDType.BF16, shape, MemoryMarshal.AsBytes(bf16.AsSpan()).ToArray());
    }

    /// <summary>Per 128x128 block: scale = amax / 448, q = e4m3(w / scale), as the released weights were made.</summary>
    private static (byte[] Bits, float[] Scales, long[] ScaleShape) QuantizeFp8(float[] values, int rows, int cols)
    {
        int block = Fp8BlockMatrix.BlockSize;
        int scaleRows = (rows + block - 1) / block, scaleCols = (cols + block - 1) / block;
        var scales = new float[scaleRows * scaleCols];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                int s = r / block * scaleCols + c / block;
                scales[s] = MathF.Max(scales[s], MathF.Abs(values[(long)r * cols + c]));
            }
        for (int s = 0; s < scales.Length; s++) scales[s] = scales[s] > 0 ? scales[s] / Fp8E4M3.MaxValue : 1;
        var bits = new byte[values.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
            {
                long i = (long)r * cols + c;
                bits[i] = Fp8E4M3.Encode(values[i] / scales[r / block * scaleCols + c / block]);
            }
        return (bits, scales, [scaleRows, scaleCols]);
    }
}
