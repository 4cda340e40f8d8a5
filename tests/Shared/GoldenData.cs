using ServerV3.Engine.ModelLoading;
using ServerV3.Tests;

namespace ServerV3.Tests;

/// <summary>The reference outputs of a golden model (golden.safetensors), read into memory.</summary>
public sealed class GoldenData
{
    private readonly Dictionary<string, float[]> floats = [];
    private readonly Dictionary<string, long[]> ids = [];
    private readonly Dictionary<string, long[]> shapes = [];

    public GoldenData(string model)
    {
        ModelDirectory = RepositoryPaths.Golden(model);
        using var file = SafetensorsFile.Open(Path.Combine(ModelDirectory, "golden.safetensors"));
        foreach (var tensor in file.Tensors.Values)
        {
            shapes[tensor.Name] = tensor.Shape;
            if (tensor.DType == SafetensorsDType.I64) ids[tensor.Name] = file.Values<long>(tensor).ToArray();
            else floats[tensor.Name] = file.Values<float>(tensor).ToArray();
        }
    }

    public string ModelDirectory { get; }

    public int NumPrompts => ids.Keys.Count(k => k.EndsWith(".input_ids", StringComparison.Ordinal));

    public int[] Prompt(int p) => Ids($"p{p}.input_ids");

    public int[] Ids(string name) => ids[name].Select(v => (int)v).ToArray();

    public float[] Floats(string name) => floats[name];

    public bool Has(string name) => floats.ContainsKey(name) || ids.ContainsKey(name);

    public long[] Shape(string name) => shapes[name];
}
