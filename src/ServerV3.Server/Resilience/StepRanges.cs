using System.Globalization;

namespace ServerV3.Server.Resilience;

/// <summary>Parses the FaultSteps setting ("3-5,9") into the engine's fault-injection predicate.</summary>
public static class StepRanges
{
    public static Func<long, bool>? Parse(string text)
    {
        if (string.IsNullOrWhiteSpace(text)) return null;
        var ranges = text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(part =>
        {
            var bounds = part.Split('-', 2);
            long first = long.Parse(bounds[0], CultureInfo.InvariantCulture);
            return (First: first, Last: bounds.Length == 2 ? long.Parse(bounds[1], CultureInfo.InvariantCulture) : first);
        }).ToArray();
        return step => ranges.Any(r => step >= r.First && step <= r.Last);
    }
}
