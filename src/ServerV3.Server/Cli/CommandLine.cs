namespace ServerV3.Server.Cli;

/// <summary>The `serverv3` verbs. Misuse exits with code 2.</summary>
public static class CommandLine
{
    public static int Run(string[] args)
    {
        Console.Error.WriteLine("usage: serverv3 <logits|make-model|bench> ...");
        return args.Length == 0 ? 2 : 2;
    }
}
