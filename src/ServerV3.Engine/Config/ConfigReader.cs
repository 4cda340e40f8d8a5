using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace ServerV3.Engine.Config;

/// <summary>Typed reads of config.json keys whose errors name the file and the key.</summary>
internal sealed class ConfigReader(JsonObject json, string source)
{
    public int Int(string key) => NullableInt(key) ?? throw Missing(key);

    public int Int(string key, int fallback) => NullableInt(key) ?? fallback;

    public int? NullableInt(string key)
    {
        var node = json[key];
        if (node is null) return null;
        if (node is JsonValue value && value.TryGetValue(out double number) && number == Math.Floor(number)
            && number is >= 0 and <= int.MaxValue)
            return (int)number;
        throw Invalid(key, node, "a non-negative integer");
    }

    public double Double(string key, double fallback)
    {
        var node = json[key];
        if (node is null) return fallback;
        if (node is JsonValue value && value.TryGetValue(out double number)) return number;
        throw Invalid(key, node, "a number");
    }

    public bool Bool(string key, bool fallback)
    {
        var node = json[key];
        if (node is null) return fallback;
        if (node is JsonValue value && value.TryGetValue(out bool flag)) return flag;
        throw Invalid(key, node, "true or false");
    }

    public IReadOnlyList<int> IntOrList(string key)
    {
        var node = json[key];
        if (node is null) return [];
        if (node is JsonArray array)
            return array.Select((item, i) => item is JsonValue v && v.TryGetValue(out int id) ? id : throw Invalid($"{key}[{i}]", item ?? JsonValue.Create("null"), "an integer")).ToArray();
        return [Int(key)];
    }

    public void Expect(string key, params string[] supported)
    {
        var node = json[key];
        if (node is null) return;
        string? value = node is JsonValue v && v.TryGetValue(out string? text) ? text : null;
        if (value is null || !supported.Contains(value))
            throw new ModelConfigException(
                $"{source}: unsupported {key} {node.ToJsonString()}; supported: {string.Join(", ", supported.Select(s => $"\"{s}\""))}");
    }

    public YarnScaling? Yarn(string key)
    {
        if (json[key] is not JsonObject scaling) return json[key] is null ? null : throw Invalid(key, json[key]!, "an object");
        var inner = new ConfigReader(scaling, $"{source}: {key}");
        string type = scaling["type"]?.ToString() ?? scaling["rope_type"]?.ToString() ?? "";
        if (type != "yarn") throw new ModelConfigException($"{source}: unsupported {key}.type \"{type}\"; supported: \"yarn\"");
        return new YarnScaling(
            inner.Double("factor", 1),
            inner.Int("original_max_position_embeddings"),
            inner.Double("beta_fast", 32),
            inner.Double("beta_slow", 1),
            inner.Double("mscale", 1),
            inner.Double("mscale_all_dim", 0));
    }

    public IReadOnlyList<int>? Fp8BlockSize(string key)
    {
        if (json[key] is not JsonObject quantization) return json[key] is null ? null : throw Invalid(key, json[key]!, "an object");
        string method = quantization["quant_method"]?.ToString() ?? "";
        if (method != "fp8") throw new ModelConfigException($"{source}: unsupported {key}.quant_method \"{method}\"; supported: \"fp8\"");
        string format = quantization["fmt"]?.ToString() ?? "e4m3";
        if (format != "e4m3") throw new ModelConfigException($"{source}: unsupported {key}.fmt \"{format}\"; supported: \"e4m3\"");
        var block = new ConfigReader(quantization, $"{source}: {key}").IntOrList("weight_block_size");
        if (block.Count != 2 || block[0] != 128 || block[1] != 128)
            throw new ModelConfigException($"{source}: unsupported {key}.weight_block_size [{string.Join(", ", block)}]; supported: [128, 128]");
        return block;
    }

    public ModelConfigException Unsupported(string key, object value, string? why = null) =>
        new($"{source}: unsupported {key} {Convert.ToString(value, CultureInfo.InvariantCulture)}{(why is null ? "" : $": {why}")}");

    private ModelConfigException Missing(string key) => new($"{source}: missing required key \"{key}\"");

    private ModelConfigException Invalid(string key, JsonNode node, string expected) =>
        new($"{source}: key \"{key}\" is {node.ToJsonString(JsonSerializerOptions.Default)}, expected {expected}");
}
