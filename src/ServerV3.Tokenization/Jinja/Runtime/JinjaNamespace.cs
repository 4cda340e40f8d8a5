namespace ServerV3.Tokenization.Jinja;

/// <summary>The object made by <c>namespace(...)</c>: the one value whose attributes a template may set.</summary>
internal sealed class JinjaNamespace
{
    public OrderedDictionary<string, object?> Attributes { get; } = new(StringComparer.Ordinal);
}
