using System.Security.Cryptography;

namespace ServerV3.Protocol;

/// <summary>Random ids in OpenAI's formats: chatcmpl-…, cmpl-…, call_….</summary>
public static class ResponseIds
{
    private const string Alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

    public static string NewChatCompletionId() => "chatcmpl-" + RandomSuffix(29);

    public static string NewCompletionId() => "cmpl-" + RandomSuffix(29);

    public static string NewToolCallId() => "call_" + RandomSuffix(24);

    private static string RandomSuffix(int length) => RandomNumberGenerator.GetString(Alphabet, length);
}
