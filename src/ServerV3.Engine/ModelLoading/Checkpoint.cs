using System.Text.Json;

namespace ServerV3.Engine.ModelLoading;

/// <summary>
/// The tensors of a Hugging Face checkpoint directory: a single <c>model.safetensors</c>, or shards listed by
/// <c>model.safetensors.index.json</c> (every mapped tensor must be in the shard the index names).
/// </summary>
public sealed class Checkpoint : IDisposable
{
    public const string IndexFileName = "model.safetensors.index.json";

    private readonly List<SafetensorsFile> files;
    private readonly Dictionary<string, (SafetensorsFile File, TensorInfo Info)> tensors;

    private Checkpoint(string directory, List<SafetensorsFile> files)
    {
        Directory = directory;
        this.files = files;
        tensors = files.SelectMany(f => f.Tensors.Values.Select(t => (t.Name, Entry: (f, t))))
            .GroupBy(x => x.Name)
            .ToDictionary(g => g.Key, g => g.Count() == 1
                ? g.Single().Entry
                : throw new ModelLoadException($"{directory}: tensor {g.Key} appears in several files: {string.Join(", ", g.Select(x => x.Entry.f.Path))}"));
    }

    public string Directory { get; }

    public IEnumerable<string> TensorNames => tensors.Keys;

    public static Checkpoint Open(string directory)
    {
        string indexPath = Path.Combine(directory, IndexFileName);
        var files = new List<SafetensorsFile>();
        try
        {
            if (File.Exists(indexPath))
            {
                var weightMap = ReadWeightMap(indexPath);
                foreach (string shard in weightMap.Values.Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal))
                    files.Add(SafetensorsFile.Open(Path.Combine(directory, shard)));
                foreach (var (name, shard) in weightMap)
                {
                    var file = files.Single(f => Path.GetFileName(f.Path) == shard);
                    if (!file.Tensors.ContainsKey(name))
                        throw new ModelLoadException($"{file.Path}: missing tensor {name} (the index maps it to this file)");
                }
            }
            else
            {
                var single = System.IO.Directory.Exists(directory)
                    ? System.IO.Directory.GetFiles(directory, "*.safetensors").Order(StringComparer.Ordinal).ToArray()
                    : throw new ModelLoadException($"{directory}: model directory not found");
                if (single.Length == 0) throw new ModelLoadException($"{directory}: no {IndexFileName} and no *.safetensors file");
                files.AddRange(single.Select(SafetensorsFile.Open));
            }
            return new Checkpoint(directory, files);
        }
        catch
        {
            files.ForEach(f => f.Dispose());
            throw;
        }
    }

    public bool Contains(string name) => tensors.ContainsKey(name);

    /// <summary>The tensor, checked against the expected shape; errors name the tensor and the file.</summary>
    public (SafetensorsFile File, TensorInfo Info) Require(string name, params long[] shape)
    {
        if (!tensors.TryGetValue(name, out var entry))
            throw new ModelLoadException($"{Directory}: missing tensor {name}");
        if (!entry.Info.Shape.SequenceEqual(shape))
            throw new ModelLoadException(
                $"{entry.File.Path}: tensor {name} has shape {entry.Info.ShapeText}, expected [{string.Join(", ", shape)}]");
        return entry;
    }

    /// <summary>A floating-point tensor widened to fp32.</summary>
    public float[] ReadFloats(string name, params long[] shape)
    {
        var (file, info) = Require(name, shape);
        var result = new float[info.ElementCount];
        switch (info.DType)
        {
            case SafetensorsDType.F32:
                file.Values<float>(info).CopyTo(result);
                break;
            case SafetensorsDType.BF16:
                var bf16 = file.Values<ushort>(info);
                for (int i = 0; i < result.Length; i++) result[i] = Kernels.Weights.BFloat16.ToSingle(bf16[i]);
                break;
            case SafetensorsDType.F16:
                var f16 = file.Values<Half>(info);
                for (int i = 0; i < result.Length; i++) result[i] = (float)f16[i];
                break;
            default:
                throw new ModelLoadException($"{file.Path}: tensor {name} has dtype {info.DType}, expected a float type (F32, BF16, F16)");
        }
        return result;
    }

    public void Dispose() => files.ForEach(f => f.Dispose());

    private static Dictionary<string, string> ReadWeightMap(string indexPath)
    {
        try
        {
            using var document = JsonDocument.Parse(File.ReadAllBytes(indexPath));
            return document.RootElement.GetProperty("weight_map").EnumerateObject()
                .ToDictionary(p => p.Name, p => p.Value.GetString() ?? throw new ModelLoadException($"{indexPath}: weight_map.{p.Name} is not a file name"));
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException)
        {
            throw new ModelLoadException($"{indexPath}: malformed index ({e.Message})", e);
        }
    }
}
