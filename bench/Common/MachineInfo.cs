using MixLens.Kernels;

namespace MixLens.Bench.Common;

/// <summary>What the numbers were measured on: CPU model (/proc/cpuinfo), cores, vector path, runtime, load average.</summary>
public static class MachineInfo
{
    public static string CpuModel()
    {
        try
        {
            var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name"));
            return line is null ? "unknown" : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException) { return "unknown"; }
    }

    /// <summary>The 1-, 5- and 15-minute load averages from /proc/loadavg, or "n/a".</summary>
    public static string LoadAverage()
    {
        try { return string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "n/a"; }
    }

    /// <summary>One line: CPU, logical cores, the MixLens vector path, .NET version, date (UTC).</summary>
    public static string Summary() =>
        $"CPU: {CpuModel()}, {Environment.ProcessorCount} logical cores; MixLens vector path: {VectorPaths.Active}; " +
        $".NET {Environment.Version}; {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load average {LoadAverage()}";
}
