namespace MixLens.Analysis.Cost;

/// <summary>
/// Maps the progress of one part of a request, 0 to 1, onto its share [<paramref name="start"/>, <paramref name="end"/>]
/// of the whole request's progress (e.g. layer l of L: [l/L, (l+1)/L]).
/// </summary>
internal sealed class ProgressSpan(IProgress<double> whole, double start, double end) : IProgress<double>
{
    public void Report(double value) => whole.Report(start + (end - start) * Math.Clamp(value, 0, 1));

    /// <summary>The span of <paramref name="whole"/>, or null when there is no progress to report to.</summary>
    public static IProgress<double>? Of(IProgress<double>? whole, double start, double end) =>
        whole is null ? null : new ProgressSpan(whole, start, end);
}
