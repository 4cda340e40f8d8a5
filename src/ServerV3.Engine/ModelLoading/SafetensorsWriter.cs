using System.Text;
using System.Text.Json.Nodes;

namespace ServerV3.Engine.ModelLoading;

/// <summary>Writes safetensors files (header padded with spaces to 8 bytes, as the reference writer does).</summary>
public static class SafetensorsWriter
{
    public sealed record Entry(string Name, SafetensorsDType DType, long[] Shape, byte[] Data);

    public static void Write(string path, IReadOnlyList<Entry> entries, IReadOnlyDictionary<string, string>? metadata = null)
    {
        var header = new JsonObject();
        if (metadata is not null)
            header["__metadata__"] = new JsonObject(metadata.Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value)));
        long offset = 0;
        foreach (var entry in entries)
        {
            long expected = entry.Shape.Aggregate(1L, (a, b) => a * b) * entry.DType.Size();
            if (entry.Data.LongLength != expected)
                throw new ArgumentException($"tensor {entry.Name}: {entry.Data.LongLength} bytes for shape [{string.Join(", ", entry.Shape)}] of {entry.DType}");
            header[entry.Name] = new JsonObject
            {
                ["dtype"] = entry.DType.ToString(),
                ["shape"] = new JsonArray(entry.Shape.Select(d => (JsonNode?)d).ToArray()),
                ["data_offsets"] = new JsonArray(offset, offset + entry.Data.LongLength),
            };
            offset += entry.Data.LongLength;
        }
        byte[] headerBytes = Encoding.UTF8.GetBytes(header.ToJsonString());
        int padded = (headerBytes.Length + 7) / 8 * 8;
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        stream.Write(BitConverter.GetBytes((long)padded));
        stream.Write(headerBytes);
        for (int i = headerBytes.Length; i < padded; i++) stream.WriteByte((byte)' ');
        foreach (var entry in entries) stream.Write(entry.Data);
    }
}
