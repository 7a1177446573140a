namespace MixLens.Kernels;

/// <summary>
/// The data cache sizes of the machine, read once at start-up, for the GEMM's blocking (how many rows of A stay in L2
/// while the panels of B stream past them).
/// </summary>
/// <remarks>
/// Linux: <c>/sys/devices/system/cpu/cpu0/cache/index*/</c> (<c>level</c>, <c>type</c>, <c>size</c>). Elsewhere, or when
/// those files are missing or unreadable, the defaults below (32 KiB L1d, 512 KiB L2: the smallest of the x64 and Arm
/// cores in use today, so a block sized for them fits on every machine).
/// </remarks>
public static class CacheSizes
{
    /// <summary>L1 data cache of one core, in bytes.</summary>
    public static int L1Data { get; }
    /// <summary>L2 cache of one core, in bytes.</summary>
    public static int L2 { get; }

    const int DefaultL1Data = 32 << 10, DefaultL2 = 512 << 10;

    static CacheSizes()
    {
        L1Data = DefaultL1Data;
        L2 = DefaultL2;
        if (OperatingSystem.IsLinux())
        {
            try
            {
                foreach (var dir in Directory.EnumerateDirectories("/sys/devices/system/cpu/cpu0/cache", "index*"))
                {
                    string level = File.ReadAllText(Path.Combine(dir, "level")).Trim();
                    string type = File.ReadAllText(Path.Combine(dir, "type")).Trim();
                    if (ParseSize(File.ReadAllText(Path.Combine(dir, "size"))) is not int size) continue;
                    if (level == "1" && type is "Data" or "Unified") L1Data = size;
                    else if (level == "2" && type is "Unified" or "Data") L2 = size;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        }
    }

    /// <summary>"512K", "1024K", "32768K", "1M" or a plain byte count; null when not one of those or out of range.</summary>
    internal static int? ParseSize(string text)
    {
        text = text.Trim();
        long unit = 1;
        if (text.EndsWith('K')) { unit = 1 << 10; text = text[..^1]; }
        else if (text.EndsWith('M')) { unit = 1 << 20; text = text[..^1]; }
        if (!long.TryParse(text, out long value) || value <= 0 || value * unit > int.MaxValue) return null;
        return (int)(value * unit);
    }
}
