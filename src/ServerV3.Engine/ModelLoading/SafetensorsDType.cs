namespace ServerV3.Engine.ModelLoading;

public enum SafetensorsDType
{
    F32,
    F16,
    BF16,
    F8_E4M3,
    I64,
    I32,
}

public static class SafetensorsDTypes
{
    public static int Size(this SafetensorsDType type) => type switch
    {
        SafetensorsDType.F32 or SafetensorsDType.I32 => 4,
        SafetensorsDType.F16 or SafetensorsDType.BF16 => 2,
        SafetensorsDType.F8_E4M3 => 1,
        SafetensorsDType.I64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(type)),
    };

    public static bool TryParse(string name, out SafetensorsDType type) =>
        Enum.TryParse(name, ignoreCase: false, out type) && Enum.IsDefined(type);
}
