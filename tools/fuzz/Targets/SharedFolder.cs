namespace MixLens.Fuzz;

/// <summary>The shared data folder: <c>MIXLENS_SHARED</c>, else <c>../shared</c> beside the repository (the folder
/// holding Engine.sln above this assembly), as the tests find it.</summary>
public static class SharedFolder
{
    public static string Root { get; } = Resolve();

    static string Resolve()
    {
        if (Environment.GetEnvironmentVariable("MIXLENS_SHARED") is { Length: > 0 } env) return env;
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir != null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Engine.sln")))
                return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
        return Path.GetFullPath("../shared");
    }
}
