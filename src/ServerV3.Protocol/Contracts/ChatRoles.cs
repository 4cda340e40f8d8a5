namespace ServerV3.Protocol;

/// <summary>Message roles of chat requests. "developer" is OpenAI's newer name for "system".</summary>
public static class ChatRoles
{
    public const string System = "system";
    public const string Developer = "developer";
    public const string User = "user";
    public const string Assistant = "assistant";
    public const string Tool = "tool";
}
