namespace ServerV3.Tests;

/// <summary>Locates files of the repository (golden data, shipped models) from a test's output folder.</summary>
internal static class RepositoryPaths
{
    public static string Root { get; } = FindRoot();

    public static string Golden(params string[] parts) => Path.Combine([Root, "tests", "golden", .. parts]);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "ServerV3.sln"))) return dir.FullName;
        throw new InvalidOperationException($"ServerV3.sln not found above {AppContext.BaseDirectory}");
    }
}
