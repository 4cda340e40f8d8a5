namespace ServerV3.Server.Cli;

/// <summary>The command line or an input file is wrong; reported without a stack trace, exit code 2.</summary>
public sealed class UsageException(string message) : Exception(message);
