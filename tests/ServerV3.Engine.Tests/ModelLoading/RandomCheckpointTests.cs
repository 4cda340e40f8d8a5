using ServerV3.Engine.KvCache;
using ServerV3.Engine.Config;
using ServerV3.Engine.Execution;
using ServerV3.Engine.ModelLoading;
using ServerV3.Engine.Runtime;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests.ModelLoading;

/// <summary>Checkpoints written by make-model load and give well-conditioned logits, in BF16 and in FP8.</summary>
public sealed class RandomCheckpointTests
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void WrittenModelLoadsAndRuns(bool fp8)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"serverv3-random-{Guid.NewGuid():N}");
        try
        {
            var config = ModelConfig.Load(Path.Combine(RepositoryPaths.Root, "configs", "tiny.json"));
            RandomCheckpoint.Write(config, directory, seed: 7, fp8);
            using (var checkpoint = Checkpoint.Open(directory))
            {
                Assert.Contains("model.layers.3.shared_head.head.weight", checkpoint.TensorNames);
                var (_, info) = checkpoint.Require("model.layers.1.self_attn.kv_a_proj_with_mqa.weight", 80, 256);
                Assert.Equal(fp8 ? SafetensorsDType.F8_E4M3 : SafetensorsDType.BF16, info.DType);
                if (fp8) checkpoint.Require("model.layers.1.self_attn.kv_a_proj_with_mqa.weight_scale_inv", 1, 2);
            }
            Assert.Equal(fp8, ModelConfig.Load(Path.Combine(directory, "config.json")).Fp8WeightBlockSize is not null);

            using var model = LoadedModel.Load(directory, new EngineOptions { Device = DeviceKind.Cpu, KvCacheMemory = KvCacheBudget.FromBytes(4L << 20) });
            int[] prompt = Enumerable.Range(0, 40).Select(i => i * 37 % config.VocabSize).ToArray();
            using var session = new SequenceSession(model, prompt.Length);
            var (logits, mtp) = session.Append(prompt, withMtp: true);
            Assert.Equal(prompt.Length * config.VocabSize, logits.Length);
            Assert.Equal((prompt.Length - 1) * config.VocabSize, mtp.Length);
            Assert.All(logits, v => Assert.True(float.IsFinite(v)));
            // Well conditioned: each row's logits spread to order one (not collapsed, not exploding).
            for (int row = 0; row < prompt.Length; row++)
            {
                var values = logits.AsSpan(row * config.VocabSize, config.VocabSize);
                double mean = 0, square = 0;
                foreach (float v in values) { mean += v; square += v * (double)v; }
                mean /= values.Length;
                double std = Math.Sqrt(square / values.Length - mean * mean);
                Assert.InRange(std, 0.1, 10);
            }
        }
        finally
        {
            if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
        }
    }
}
