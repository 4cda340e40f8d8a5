namespace ServerV3.Protocol;

/// <summary>Text cut before its first stop string, and that stop string (null if none occurred).</summary>
public readonly record struct StopTruncation(string Text, string? MatchedStop);
