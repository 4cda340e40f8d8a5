using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace ServerV3.Engine.ModelLoading;

/// <summary>
/// A memory-mapped safetensors file: an 8-byte little-endian header length, a JSON header, then the data.
/// Opening validates the header completely (dtypes, shapes against byte ranges, ranges inside the file and
/// tiling the data region), so a truncated or corrupt file fails here with its path and the offending tensor.
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private const long MaxHeaderBytes = 100L << 20;

    private readonly MemoryMappedFile map;
    private readonly MemoryMappedViewAccessor view;
    private readonly byte* basePointer;
    private readonly long dataStart;

    private SafetensorsFile(string path, MemoryMappedFile map, MemoryMappedViewAccessor view, long dataStart, Dictionary<string, TensorInfo> tensors)
    {
        Path = path;
        this.map = map;
        this.view = view;
        this.dataStart = dataStart;
        Tensors = tensors;
        byte* pointer = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
        basePointer = pointer + view.PointerOffset;
    }

    public string Path { get; }

    public IReadOnlyDictionary<string, TensorInfo> Tensors { get; }

    public static SafetensorsFile Open(string path)
    {
        if (!File.Exists(path)) throw new ModelLoadException($"{path}: file not found");
        long length = new FileInfo(path).Length;
        if (length < 8) throw new ModelLoadException($"{path}: truncated: {length} bytes, shorter than the 8-byte header length");
        var map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        var view = map.CreateViewAccessor(0, length, MemoryMappedFileAccess.Read);
        try
        {
            long headerLength = view.ReadInt64(0);
            if (headerLength <= 0 || headerLength > MaxHeaderBytes || 8 + headerLength > length)
                throw new ModelLoadException($"{path}: truncated or corrupt: header length {headerLength} does not fit in {length} bytes");
            var headerBytes = new byte[headerLength];
            view.ReadArray(8, headerBytes, 0, headerBytes.Length);
            long dataStart = 8 + headerLength;
            var tensors = ParseHeader(path, headerBytes, length - dataStart);
            return new SafetensorsFile(path, map, view, dataStart, tensors);
        }
        catch
        {
            view.Dispose();
            map.Dispose();
            throw;
        }
    }

    /// <summary>The tensor's raw little-endian bytes (valid while the file is open).</summary>
    public ReadOnlySpan<byte> Bytes(TensorInfo tensor) =>
        new(basePointer + dataStart + tensor.Begin, checked((int)(tensor.End - tensor.Begin)));

    public ReadOnlySpan<T> Values<T>(TensorInfo tensor) where T : unmanaged => MemoryMarshal.Cast<byte, T>(Bytes(tensor));

    public void Dispose()
    {
        view.SafeMemoryMappedViewHandle.ReleasePointer();
        view.Dispose();
        map.Dispose();
    }

    private static Dictionary<string, TensorInfo> ParseHeader(string path, byte[] header, long dataLength)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(header);
        }
        catch (JsonException e)
        {
            throw new ModelLoadException($"{path}: corrupt header: {e.Message}", e);
        }
        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object) throw new ModelLoadException($"{path}: corrupt header: not a JSON object");
            var tensors = new Dictionary<string, TensorInfo>();
            foreach (var entry in document.RootElement.EnumerateObject())
            {
                if (entry.Name == "__metadata__") continue;
                tensors.Add(entry.Name, ParseEntry(path, entry.Name, entry.Value, dataLength));
            }
            CheckTiling(path, tensors.Values, dataLength);
            return tensors;
        }
    }

    private static TensorInfo ParseEntry(string path, string name, JsonElement entry, long dataLength)
    {
        try
        {
            string dtypeName = entry.GetProperty("dtype").GetString() ?? "";
            if (!SafetensorsDTypes.TryParse(dtypeName, out var dtype))
                throw new ModelLoadException($"{path}: tensor {name}: unsupported dtype {dtypeName}");
            long[] shape = entry.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            long[] offsets = entry.GetProperty("data_offsets").EnumerateArray().Select(d => d.GetInt64()).ToArray();
            if (offsets.Length != 2 || shape.Any(d => d < 0))
                throw new ModelLoadException($"{path}: tensor {name}: malformed shape or data_offsets");
            var info = new TensorInfo(name, dtype, shape, offsets[0], offsets[1]);
            if (info.Begin < 0 || info.End < info.Begin || info.End > dataLength)
                throw new ModelLoadException(
                    $"{path}: tensor {name}: data_offsets [{info.Begin}, {info.End}] lie outside the {dataLength}-byte data region (truncated file?)");
            if (info.End - info.Begin != info.ElementCount * dtype.Size())
                throw new ModelLoadException(
                    $"{path}: tensor {name}: {info.End - info.Begin} bytes do not match shape {info.ShapeText} of {dtype}");
            return info;
        }
        catch (Exception e) when (e is KeyNotFoundException or InvalidOperationException or FormatException)
        {
            throw new ModelLoadException($"{path}: tensor {name}: malformed header entry ({e.Message})", e);
        }
    }

    private static void CheckTiling(string path, IEnumerable<TensorInfo> tensors, long dataLength)
    {
        long expected = 0;
        foreach (var tensor in tensors.OrderBy(t => t.Begin).ThenBy(t => t.End))
        {
            if (tensor.Begin != expected)
                throw new ModelLoadException($"{path}: tensor {tensor.Name}: starts at byte {tensor.Begin}, expected {expected} (overlap or hole in the data)");
            expected = tensor.End;
        }
        if (expected != dataLength)
            throw new ModelLoadException($"{path}: the data region has {dataLength} bytes but the tensors cover {expected} (corrupt or truncated file)");
    }
}
