using ServerV3.Engine.Config;
using ServerV3.Engine.ModelLoading;
using ServerV3.Tests;

namespace ServerV3.Engine.Tests.Moe;

/// <summary>
/// A temporary copy of a golden model whose routing biases (e_score_correction_bias) send every token of every MoE
/// layer to the same experts: a maximally skewed load. Biases only choose experts, so the model stays well formed.
/// </summary>
internal sealed class SkewedCheckpoint : IDisposable
{
    public SkewedCheckpoint(string model, IReadOnlyList<int> hotExperts)
    {
        Directory = Path.Combine(Path.GetTempPath(), $"serverv3-skewed-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(Directory);
        foreach (string file in System.IO.Directory.GetFiles(RepositoryPaths.Golden(model)))
            File.Copy(file, Path.Combine(Directory, Path.GetFileName(file)));
        int experts = ModelConfig.Load(Path.Combine(Directory, "config.json")).NRoutedExperts;
        var patches = new List<(string File, long Offset, float[] Values)>();
        using (var checkpoint = Checkpoint.Open(Directory))
        {
            foreach (string name in checkpoint.TensorNames.Where(n => n.EndsWith("mlp.gate.e_score_correction_bias", StringComparison.Ordinal)))
            {
                var (file, info) = checkpoint.Require(name, experts);
                Assert.Equal(SafetensorsDType.F32, info.DType);
                var values = checkpoint.ReadFloats(name, experts);
                foreach (int e in hotExperts) values[e] += 10;
                patches.Add((file.Path, DataStart(file.Path) + info.Begin, values));
            }
        }
        foreach (var (file, offset, values) in patches)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Write);
            stream.Position = offset;
            foreach (float v in values) stream.Write(BitConverter.GetBytes(v));
        }
    }

    public string Directory { get; }

    public void Dispose() => System.IO.Directory.Delete(Directory, recursive: true);

    /// <summary>The first byte after a safetensors header (an 8-byte length, then the header).</summary>
    private static long DataStart(string path)
    {
        using var stream = File.OpenRead(path);
        var length = new byte[8];
        stream.ReadExactly(length);
        return 8 + BitConverter.ToInt64(length);
    }
}
