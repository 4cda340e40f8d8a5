using System.Text.Json.Nodes;
using ServerV3.Engine.Config;
using ServerV3.Engine.ModelLoading;
using ServerV3.Engine.Runtime;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests.ModelLoading;

/// <summary>Broken checkpoints fail at load with a message that names the file, the tensor or the key.</summary>
public sealed class LoadErrorTests : IDisposable
{
    private readonly string directory = Path.Combine(Path.GetTempPath(), $"serverv3-load-{Guid.NewGuid():N}");

    public LoadErrorTests()
    {
        Directory.CreateDirectory(directory);
        foreach (var file in Directory.GetFiles(RepositoryPaths.Golden("tiny-v3")))
            if (!Path.GetFileName(file).StartsWith("golden", StringComparison.Ordinal)) File.Copy(file, Path.Combine(directory, Path.GetFileName(file)));
    }

    public void Dispose() => Directory.Delete(directory, recursive: true);

    private string Shard(int n) => Path.Combine(directory, $"model-0000{n}-of-00003.safetensors");

    private ModelLoadException LoadFails() =>
        Assert.Throws<ModelLoadException>(() => LoadedModel.Load(directory, new EngineOptions { Device = DeviceKind.Cpu }).Dispose());

    [Fact]
    public void TruncatedShardNamesTheFileAndATensor()
    {
        var bytes = File.ReadAllBytes(Shard(2));
        File.WriteAllBytes(Shard(2), bytes[..(bytes.Length - 1000)]);
        var error = LoadFails();
        Assert.Contains("model-00002-of-00003.safetensors", error.Message);
        Assert.Contains("truncated", error.Message);
        Assert.Contains("tensor ", error.Message);
    }

    [Fact]
    public void CorruptHeaderNamesTheFile()
    {
        var bytes = File.ReadAllBytes(Shard(1));
        bytes[8] = (byte)'x'; // the header's opening brace
        File.WriteAllBytes(Shard(1), bytes);
        var error = LoadFails();
        Assert.Contains("model-00001-of-00003.safetensors: corrupt header", error.Message);
    }

    [Fact]
    public void MissingTensorIsNamed()
    {
        var indexPath = Path.Combine(directory, Checkpoint.IndexFileName);
        var index = JsonNode.Parse(File.ReadAllText(indexPath))!;
        index["weight_map"]!.AsObject().Remove("model.layers.1.mlp.experts.3.up_proj.weight");
        File.WriteAllText(indexPath, index.ToJsonString());
        // Rewrite the shard without the tensor, as a converter that dropped it would.
        using (var file = SafetensorsFile.Open(Shard(1)))
        {
            var kept = file.Tensors.Values.Where(t => t.Name != "model.layers.1.mlp.experts.3.up_proj.weight").OrderBy(t => t.Begin)
                .Select(t => new SafetensorsWriter.Entry(t.Name, t.DType, t.Shape, file.Bytes(t).ToArray())).ToList();
            SafetensorsWriter.Write(Shard(1) + ".new", kept);
        }
        File.Move(Shard(1) + ".new", Shard(1), overwrite: true);
        var error = LoadFails();
        Assert.Contains("missing tensor model.layers.1.mlp.experts.3.up_proj.weight", error.Message);
    }

    [Fact]
    public void WrongShapeNamesTensorAndShapes()
    {
        var configPath = Path.Combine(directory, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config["moe_intermediate_size"] = 32;
        File.WriteAllText(configPath, config.ToJsonString());
        var error = LoadFails();
        Assert.Matches(@"tensor model\.layers\.1\.mlp\.(experts\.0\.gate_proj|shared_experts\.gate_proj)\.weight has shape \[\d+, 256\], expected \[32, 256\]", error.Message);
    }

    [Theory]
    [InlineData("topk_method", "\"group_limited_greedy\"", "unsupported topk_method \"group_limited_greedy\"")]
    [InlineData("scoring_func", "\"softmax\"", "unsupported scoring_func \"softmax\"")]
    [InlineData("hidden_size", "\"big\"", "key \"hidden_size\" is \"big\", expected a non-negative integer")]
    [InlineData("n_group", "5", "unsupported n_group 5: it must divide n_routed_experts (16)")]
    public void UnsupportedConfigValuesNameTheKey(string key, string json, string message)
    {
        var configPath = Path.Combine(directory, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(configPath))!;
        config[key] = JsonNode.Parse(json);
        File.WriteAllText(configPath, config.ToJsonString());
        var error = Assert.Throws<ModelConfigException>(() => ModelConfig.Load(configPath));
        Assert.Contains(message, error.Message);
        Assert.Contains("config.json", error.Message);
    }
}
