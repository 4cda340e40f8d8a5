namespace ServerV3.Protocol;

/// <summary>OpenAI's error body: <c>{"error": {"message", "type", "param", "code"}}</c>.</summary>
public sealed record ErrorResponse(ErrorInfo Error);
