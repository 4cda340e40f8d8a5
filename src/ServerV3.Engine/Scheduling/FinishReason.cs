namespace ServerV3.Engine.Scheduling;

public enum FinishReason
{
    /// <summary>An end-of-sequence or stop token was generated.</summary>
    Stop,
    /// <summary>max_tokens was reached.</summary>
    Length,
    /// <summary>The request was cancelled (client gone, timeout, shutdown).</summary>
    Abort,
}
