namespace MixLens.Bench.Common;

/// <summary>Order statistics of timing samples.</summary>
public static class Stats
{
    /// <summary>The median (mean of the two middle values for an even count).</summary>
    public static double Median(IEnumerable<double> samples)
    {
        var s = samples.OrderBy(x => x).ToArray();
        if (s.Length == 0) return double.NaN;
        return s.Length % 2 == 1 ? s[s.Length / 2] : (s[s.Length / 2 - 1] + s[s.Length / 2]) / 2;
    }
}
