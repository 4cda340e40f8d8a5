namespace ServerV3.Protocol;

/// <summary>One served model (GET /v1/models/{id}); max_model_len is vLLM's extension, left out when null.</summary>
public sealed record ModelCard
{
    public required string Id { get; init; }

    public string Object => "model";

    public required long Created { get; init; }

    public required string OwnedBy { get; init; }

    public int? MaxModelLen { get; init; }
}
