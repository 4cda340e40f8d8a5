using System.Globalization;

namespace ServerV3.Engine.KvCache;

/// <summary>
/// How much memory the latent cache gets (--kv-cache-memory): a size in bytes ("268435456", "256MiB", "2GiB",
/// "512MB"), or a fraction of the accelerator memory still free once the weights are loaded ("0.9", like vLLM's
/// --gpu-memory-utilization applied to what is left).
/// </summary>
public readonly record struct KvCacheBudget(long Bytes, double FractionOfFree)
{
    public static KvCacheBudget FromBytes(long bytes) => new(bytes, 0);

    public long Resolve(long freeBytes) => FractionOfFree > 0 ? (long)(FractionOfFree * freeBytes) : Bytes;

    public static bool TryParse(string? text, out KvCacheBudget budget)
    {
        budget = default;
        if (string.IsNullOrWhiteSpace(text)) return false;
        text = text.Trim();
        if (double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double number) && number > 0 && number <= 1 && text.Contains('.'))
        {
            budget = new KvCacheBudget(0, number);
            return true;
        }
        (string Suffix, long Scale)[] units = [("KiB", 1L << 10), ("MiB", 1L << 20), ("GiB", 1L << 30), ("KB", 1000), ("MB", 1000_000), ("GB", 1000_000_000), ("", 1)];
        foreach (var (suffix, scale) in units)
        {
            if (!text.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)) continue;
            if (!double.TryParse(text[..^suffix.Length], NumberStyles.Float, CultureInfo.InvariantCulture, out double value) || value <= 0) return false;
            if (suffix.Length == 0 && value != Math.Floor(value)) return false; // a plain byte count is a whole number
            budget = FromBytes((long)(value * scale));
            return budget.Bytes > 0;
        }
        return false;
    }

    public override string ToString() => FractionOfFree > 0 ? FractionOfFree.ToString(CultureInfo.InvariantCulture) : Bytes.ToString(CultureInfo.InvariantCulture);
}
