using System.Diagnostics.CodeAnalysis;

namespace ServerV3.Protocol;

/// <summary>Either a value or the <see cref="ApiError"/> to answer the client with.</summary>
public sealed class ProtocolResult<T>
    where T : notnull
{
    private ProtocolResult(T? value, ApiError? error)
    {
        Value = value;
        Error = error;
    }

    /// <summary>The value; default when <see cref="Error"/> is set.</summary>
    public T? Value { get; }

    public ApiError? Error { get; }

    public static ProtocolResult<T> Success(T value) => new(value, null);

    public static ProtocolResult<T> Failure(ApiError error) => new(default, error);

    public bool TryGetValue([NotNullWhen(true)] out T? value, [NotNullWhen(false)] out ApiError? error)
    {
        error = Error;
        if (error is not null)
        {
            value = default;
            return false;
        }
        value = Value!;
        return true;
    }
}
