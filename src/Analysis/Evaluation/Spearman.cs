namespace MixLens.Analysis.Evaluation;

/// <summary>
/// Spearman rank correlation: the Pearson correlation of the ranks, ties given their average rank (as
/// <c>scipy.stats.spearmanr</c>). Used by the faithfulness evaluation (blank-out importances against a mixing method's
/// [CLS] row, the protocol of Mohebbi et al. 2023, "Quantifying Context Mixing in Transformers", arXiv:2301.12971).
/// </summary>
public static class Spearman
{
    /// <summary>
    /// ρ between <paramref name="x"/> and <paramref name="y"/>, or null when it is undefined: fewer than two values,
    /// either vector constant (all ranks tied), or a NaN in either vector.
    /// </summary>
    /// <exception cref="ArgumentException">the vectors differ in length.</exception>
    public static double? Correlation(IReadOnlyList<double> x, IReadOnlyList<double> y)
    {
        if (x.Count != y.Count) throw new ArgumentException($"vectors of different lengths ({x.Count} and {y.Count})", nameof(y));
        int n = x.Count;
        if (n < 2) return null;
        for (int i = 0; i < n; i++)
            if (double.IsNaN(x[i]) || double.IsNaN(y[i])) return null;
        var rx = Ranks(x);
        var ry = Ranks(y);
        double mx = rx.Average(), my = ry.Average();
        double sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = rx[i] - mx, dy = ry[i] - my;
            sxy += dx * dy;
            sxx += dx * dx;
            syy += dy * dy;
        }
        if (sxx == 0 || syy == 0) return null;
        return Math.Clamp(sxy / Math.Sqrt(sxx * syy), -1.0, 1.0);
    }

    /// <summary>1-based ranks, ascending; tied values share the mean of the ranks they span.</summary>
    public static double[] Ranks(IReadOnlyList<double> values)
    {
        int n = values.Count;
        var order = Enumerable.Range(0, n).OrderBy(i => values[i]).ToArray();
        var ranks = new double[n];
        for (int start = 0; start < n;)
        {
            int end = start + 1;
            while (end < n && values[order[end]] == values[order[start]]) end++;
            double rank = (start + 1 + end) / 2.0; // mean of ranks start+1 … end
            for (int k = start; k < end; k++) ranks[order[k]] = rank;
            start = end;
        }
        return ranks;
    }
}
