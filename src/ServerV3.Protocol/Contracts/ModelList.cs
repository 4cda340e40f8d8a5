namespace ServerV3.Protocol;

/// <summary>Response of GET /v1/models.</summary>
public sealed record ModelList(IReadOnlyList<ModelCard> Data)
{
    public string Object => "list";
}
