using System.Globalization;

namespace MixLens.Analysis.Cost;

/// <summary>
/// What a request is expected to cost before it starts (<see cref="CostModel"/>): its work, the peak memory it
/// allocates, and the seconds that work takes at this machine's measured GEMM speed (<see cref="GemmSpeed"/>).
/// </summary>
/// <param name="What">what is estimated, e.g. "flow on 512 tokens".</param>
/// <param name="Operations">the work: float operations (a multiply-add counts 2), with the methods whose inner loop is not
/// arithmetic (attention flow's max-flow searches) counted in GEMM-equivalent operations.</param>
/// <param name="PeakBytes">the most memory it holds at once: the managed arrays it allocates (trace, workspaces,
/// per-thread buffers, result), including the garbage a layer-by-layer method leaves before the collector runs.</param>
/// <param name="Seconds">wall-clock seconds expected: <paramref name="Operations"/> over the GEMM speed, scaled by the
/// method's measured efficiency.</param>
public sealed record CostEstimate(string What, double Operations, long PeakBytes, double Seconds)
{
    /// <summary>No work at all.</summary>
    public static CostEstimate None(string what) => new(what, 0, 0, 0);

    /// <summary>Two requests run one after the other: work and seconds add up, the peak is the larger one.</summary>
    public CostEstimate Then(CostEstimate next) =>
        new($"{What}, {next.What}", Operations + next.Operations, Math.Max(PeakBytes, next.PeakBytes), Seconds + next.Seconds);

    /// <summary>"about 3 min 20 s and 1.2 GiB".</summary>
    public string Summary => $"about {Duration(Seconds)} and {Size(PeakBytes)}";

    /// <summary>Seconds as "0.4 s", "48 s", "3 min 20 s", "2 h 05 min", "3.2 days".</summary>
    public static string Duration(double seconds) => seconds switch
    {
        double.PositiveInfinity => "forever",
        < 10 => string.Create(CultureInfo.InvariantCulture, $"{seconds:0.0} s"),
        < 60 => string.Create(CultureInfo.InvariantCulture, $"{seconds:0} s"),
        < 3600 => string.Create(CultureInfo.InvariantCulture, $"{(int)(seconds / 60)} min {(int)(seconds % 60):00} s"),
        < 86400 * 2 => string.Create(CultureInfo.InvariantCulture, $"{(int)(seconds / 3600)} h {(int)(seconds % 3600 / 60):00} min"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{seconds / 86400:0.0} days"),
    };

    /// <summary>Bytes in binary units: "612 B", "455 KiB", "86.7 MiB", "1.3 GiB".</summary>
    public static string Size(long bytes) => bytes switch
    {
        < 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes} B"),
        < 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / 1024.0:0} KiB"),
        < 1024L * 1024 * 1024 => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024):0.#} MiB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"{bytes / (1024.0 * 1024 * 1024):0.0} GiB"),
    };
}
