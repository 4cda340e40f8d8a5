using System.Numerics;

namespace ServerV3.Server.Cli;

/// <summary>The command line or an input file is wrong; reported without a stack trace, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message)
{
    /// <summary><paramref name="value"/> when it is above zero, else the usage error naming <paramref name="option"/> (NaN is not positive).</summary>
    public static T Positive<T>(T value, string option) where T : INumber<T> =>
        value > T.Zero ? value : throw new UsageException($"{option} must be positive, got {value}");
}
