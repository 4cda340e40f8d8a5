namespace ServerV3.Protocol;

/// <summary>
/// Ends validation at the first problem; thrown by the readers and caught only by
/// <see cref="RequestValidator"/>, which returns <see cref="Error"/>.
/// </summary>
internal sealed class InvalidRequestException(ApiError error) : Exception(error.Error.Message)
{
    public ApiError Error { get; } = error;
}
