namespace MixLens.Bench;

/// <summary>The shared data folder: MIXLENS_SHARED, or ../shared next to the repository root (the folder holding Engine.sln).</summary>
public static class SharedPaths
{
    public static string Root
    {
        get
        {
            var env = Environment.GetEnvironmentVariable("MIXLENS_SHARED");
            if (!string.IsNullOrWhiteSpace(env)) return Path.GetFullPath(env);
            foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
            {
                var dir = new DirectoryInfo(start);
                while (dir != null && !File.Exists(Path.Combine(dir.FullName, "Engine.sln"))) dir = dir.Parent;
                if (dir != null) return Path.GetFullPath(Path.Combine(dir.FullName, "..", "shared"));
            }
            throw new DirectoryNotFoundException("set MIXLENS_SHARED to the shared data folder");
        }
    }

    public static string Model(string name) => Path.Combine(Root, "models", name);
}
