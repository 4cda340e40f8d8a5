using ServerV3.Engine.Config;
using ServerV3.Engine.KvCache;
using ServerV3.Engine.Model;
using ServerV3.Engine.ModelLoading;
using ServerV3.Engine.Moe;

namespace ServerV3.Engine.Runtime;

/// <summary>A checkpoint loaded onto a device with its latent cache: what every engine command starts from.</summary>
public sealed class LoadedModel : IDisposable
{
    private LoadedModel(ComputeDevice device, ModelConfig config, ModelWeights weights, LatentCache cache, DeepSeekV3Model model)
    {
        Device = device;
        Config = config;
        Weights = weights;
        Cache = cache;
        Model = model;
        Blocks = new BlockPool(cache.NumBlocks);
    }

    public ComputeDevice Device { get; }
    public ModelConfig Config { get; }
    public ModelWeights Weights { get; }
    public LatentCache Cache { get; }
    /// <summary>The cache's blocks, shared by whoever runs sequences on this model.</summary>
    public BlockPool Blocks { get; }
    public DeepSeekV3Model Model { get; }

    /// <param name="progress">Called with (layers loaded, layers total, bytes loaded).</param>
    public static LoadedModel Load(string directory, EngineOptions options, Action<int, int, long>? progress = null)
    {
        var config = ModelConfig.Load(Path.Combine(directory, "config.json"));
        var expertParallel = options.ExpertParallel;
        expertParallel.Validate(config.NRoutedExperts);
        using var checkpoint = Checkpoint.Open(directory);
        var device = ComputeDevice.Create(options.Device, options.CpuThreads, expertParallel.Degree);
        try
        {
            var loader = new WeightLoader(checkpoint, device.Accelerator, device.Kernels.Fp8DecodeTable);
            var rankLoaders = device.ExpertRanks.Select((kernels, rank) => rank == 0 ? loader : new WeightLoader(checkpoint, kernels.Accelerator, kernels.Fp8DecodeTable)).ToArray();
            var sharding = new ExpertSharding(rankLoaders, ExpertPlacement.Create(config.NRoutedExperts, expertParallel.Degree, expertParallel.RedundantExperts));
            var weights = ModelWeights.Load(loader, config, sharding, (done, total) => progress?.Invoke(done, total, rankLoaders.Sum(l => l.BytesLoaded)));
            int layers = config.NumHiddenLayers + config.NumNextnPredictLayers;
            long perBlock = LatentCache.BytesPerBlock(layers, options.BlockSize, config.LatentCacheWidth);
            int numBlocks = (int)Math.Clamp(options.KvCacheMemory.Resolve(device.FreeMemoryBytes(loader.BytesLoaded)) / perBlock, 1, int.MaxValue);
            var cache = new LatentCache(device.Accelerator, layers, numBlocks, options.BlockSize, config.LatentCacheWidth);
            var model = new DeepSeekV3Model(device, config, weights, cache, options.Shape, expertParallel);
            return new LoadedModel(device, config, weights, cache, model);
        }
        catch
        {
            device.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Model.Dispose();
        Cache.Dispose();
        Weights.Dispose();
        Device.Dispose();
    }
}
