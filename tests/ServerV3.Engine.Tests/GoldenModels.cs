using ServerV3.Engine.KvCache;
using ServerV3.Engine.Model;
using ServerV3.Engine.Runtime;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests;

/// <summary>The golden models loaded once on the CPU accelerator and shared by the tests of a collection.</summary>
public sealed class GoldenModels : IDisposable
{
    private readonly Dictionary<(string, ModelShapeOptions), (LoadedModel Model, GoldenData Golden)> models = [];
    private readonly Lock sync = new();

    /// <param name="shape">The model's workspace options (null: the defaults).</param>
    public (LoadedModel Model, GoldenData Golden) Get(string name, ModelShapeOptions? shape = null)
    {
        shape ??= new ModelShapeOptions();
        lock (sync)
        {
            if (!models.TryGetValue((name, shape), out var entry))
            {
                var golden = new GoldenData(name);
                var options = new EngineOptions { Device = DeviceKind.Cpu, KvCacheMemory = KvCacheBudget.FromBytes(16L << 20), Shape = shape };
                entry = (LoadedModel.Load(golden.ModelDirectory, options), golden);
                models[(name, shape)] = entry;
            }
            return entry;
        }
    }

    public void Dispose()
    {
        foreach (var (model, _) in models.Values) model.Dispose();
    }
}

[CollectionDefinition(Name)]
public sealed class GoldenModelsCollection : ICollectionFixture<GoldenModels>
{
    public const string Name = "golden models";
}
