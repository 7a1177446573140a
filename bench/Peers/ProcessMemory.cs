using System.Diagnostics;
using System.Text.Json.Nodes;

namespace MixLens.Bench.Peers;

/// <summary>
/// Resident memory of the current process, in MiB, from /proc/self/status (Linux): <c>VmRSS</c> (the working set),
/// split into <c>RssAnon</c> (private anonymous pages: heaps, activations, copied weights) and <c>RssFile</c> (resident
/// pages of mapped files, e.g. a memory-mapped model.safetensors, shared with the page cache), plus .NET's
/// <see cref="Process.PrivateMemorySize64"/> ("private bytes"; on Linux the runtime reports the process's private
/// virtual data size, which counts reserved but untouched GC memory too, so it is far above what is resident).
/// The ORT worker (ort-worker.mjs) reads the same /proc fields, so the two engines are comparable.
/// </summary>
public static class ProcessMemory
{
    public static JsonObject Snapshot()
    {
        var status = ReadStatus();
        using var self = Process.GetCurrentProcess();
        return new JsonObject
        {
            ["rss_mib"] = status.GetValueOrDefault("VmRSS"),
            ["rss_anon_mib"] = status.GetValueOrDefault("RssAnon"),
            ["rss_file_mib"] = status.GetValueOrDefault("RssFile"),
            ["private_bytes_mib"] = Math.Round(self.PrivateMemorySize64 / 1048576.0, 1),
        };
    }

    /// <summary>The "kB" lines of /proc/self/status, converted to MiB (empty where /proc is unavailable).</summary>
    static Dictionary<string, double> ReadStatus()
    {
        var result = new Dictionary<string, double>();
        if (!File.Exists("/proc/self/status")) return result;
        foreach (var line in File.ReadLines("/proc/self/status"))
        {
            int colon = line.IndexOf(':');
            if (colon < 0 || !line.EndsWith(" kB")) continue;
            if (double.TryParse(line[(colon + 1)..^3].Trim(), out double kb)) result[line[..colon]] = Math.Round(kb / 1024, 1);
        }
        return result;
    }
}
