namespace MixLens.Fuzz;

/// <summary>
/// The folder a target writes its input files to: one per process, on a RAM disk (<c>/dev/shm</c>) where there is one,
/// emptied before each input so that a file of the previous input is never read by the next.
/// </summary>
public static class FuzzScratch
{
    static readonly string Root = Path.Combine(
        Directory.Exists("/dev/shm") ? "/dev/shm" : Path.GetTempPath(), $"mixlens-fuzz-{Environment.ProcessId}");

    /// <summary>A fresh empty folder named <paramref name="name"/> (one per target, reused across inputs).</summary>
    public static string Folder(string name)
    {
        string dir = Path.Combine(Root, name);
        if (Directory.Exists(dir)) Directory.Delete(dir, recursive: true);
        Directory.CreateDirectory(dir);
        return dir;
    }

    /// <summary>Writes <paramref name="bytes"/> to <paramref name="dir"/>/<paramref name="file"/> and returns the path.</summary>
    public static string Write(string dir, string file, byte[] bytes)
    {
        string path = Path.Combine(dir, file);
        File.WriteAllBytes(path, bytes);
        return path;
    }
}
