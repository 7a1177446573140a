namespace MixLens.Tests.Infrastructure;

/// <summary>
/// Locates the read-only shared data folder (models, fixtures, data). Set <c>MIXLENS_SHARED</c> to override;
/// the default is <c>../shared</c> relative to the repository root (the folder holding Engine.sln).
/// </summary>
public static class SharedData
{
    public static string Root { get; } = Resolve();

    public static string Models(string name) => Path.Combine(Root, "models", name);
    public static string Fixtures(params string[] parts) => Path.Combine([Root, "fixtures", .. parts]);

    public static string RepoRoot { get; } = FindRepoRoot();

    static string Resolve()
    {
        var env = Environment.GetEnvironmentVariable("MIXLENS_SHARED");
        var root = string.IsNullOrWhiteSpace(env) ? Path.GetFullPath(Path.Combine(FindRepoRoot(), "..", "shared")) : Path.GetFullPath(env);
        if (!Directory.Exists(Path.Combine(root, "fixtures")))
            throw new DirectoryNotFoundException($"shared data not found at '{root}' (set MIXLENS_SHARED to the folder holding models/ and fixtures/)");
        return root;
    }

    static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new DirectoryNotFoundException("could not find the repository root (Engine.sln) above " + AppContext.BaseDirectory);
    }
}
