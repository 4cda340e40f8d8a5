namespace ServerV3.Engine.ModelLoading;

/// <summary>One tensor's entry in a safetensors header; offsets are relative to the data region.</summary>
public sealed record TensorInfo(string Name, SafetensorsDType DType, long[] Shape, long Begin, long End)
{
    public long ElementCount => Shape.Aggregate(1L, (a, b) => a * b);

    public string ShapeText => $"[{string.Join(", ", Shape)}]";
}
