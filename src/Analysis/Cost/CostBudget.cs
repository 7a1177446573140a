using System.Globalization;

namespace MixLens.Analysis.Cost;

/// <summary>
/// How much one request may cost: a request whose estimate (<see cref="CostModel"/>) exceeds either limit is refused
/// before it starts, rather than running for hours or exhausting memory.
/// </summary>
/// <param name="MaxSeconds">the most wall-clock seconds one request may be estimated to take.</param>
/// <param name="MaxBytes">the most memory one request may be estimated to hold at its peak.</param>
public sealed record CostBudget(double MaxSeconds, long MaxBytes)
{
    /// <summary>The default time limit: 10 minutes per request.</summary>
    public const double DefaultMaxSeconds = 600;

    /// <summary>The share of the memory available at start-up that one request may take by default.</summary>
    public const double DefaultMemoryShare = 0.75;

    /// <summary>No limit at all.</summary>
    public static CostBudget Unlimited { get; } = new(double.PositiveInfinity, long.MaxValue);

    /// <summary>The default budget: <see cref="DefaultMaxSeconds"/>, and <see cref="DefaultMemoryShare"/> of
    /// <see cref="AvailableMemoryBytes"/>.</summary>
    public static CostBudget Default() => new(DefaultMaxSeconds, (long)(DefaultMemoryShare * AvailableMemoryBytes()));

    /// <summary>Physical memory available now: Linux's MemAvailable (free memory plus reclaimable caches), capped by
    /// the runtime's view of the memory it may use (a container's limit); elsewhere the runtime's view alone.</summary>
    public static long AvailableMemoryBytes()
    {
        long runtime = GC.GetGCMemoryInfo().TotalAvailableMemoryBytes;
        try
        {
            if (File.Exists("/proc/meminfo"))
                foreach (var line in File.ReadLines("/proc/meminfo"))
                    if (line.StartsWith("MemAvailable:", StringComparison.Ordinal)
                        && long.TryParse(line["MemAvailable:".Length..].Trim().Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out long kib))
                        return runtime > 0 ? Math.Min(runtime, kib * 1024) : kib * 1024;
        }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
        return runtime;
    }

    /// <summary>Whether <paramref name="estimate"/> fits both limits.</summary>
    public bool Allows(CostEstimate estimate) => estimate.Seconds <= MaxSeconds && estimate.PeakBytes <= MaxBytes;

    /// <summary>What exceeds the budget, e.g. "over the time budget of 10 min 00 s", or null when it fits.</summary>
    public string? Excess(CostEstimate estimate)
    {
        var parts = new List<string>();
        if (estimate.Seconds > MaxSeconds) parts.Add($"over the time budget of {CostEstimate.Duration(MaxSeconds)}");
        if (estimate.PeakBytes > MaxBytes) parts.Add($"over the memory budget of {CostEstimate.Size(MaxBytes)}");
        return parts.Count == 0 ? null : string.Join(" and ", parts);
    }
}
