namespace ServerV3.Protocol;

/// <summary>A request's <c>stream_options</c>.</summary>
public sealed record StreamOptions
{
    /// <summary>Send a last chunk with usage and empty choices before [DONE].</summary>
    public bool? IncludeUsage { get; init; }
}
