namespace MixLens.Analysis.Evaluation;

/// <summary>
/// AOPC (area over the perturbation curve; Samek et al. 2017, arXiv:1509.06321), in the form of ERASER's
/// comprehensiveness with bins (DeYoung et al. 2020, arXiv:1911.03429): for each fraction k (default 10, 20, 30, 40,
/// 50 %), the top ⌈k·m⌉ of the m candidate tokens by a method's scores are all replaced by [MASK] and the drop p − p_k
/// in the prediction's score is measured (<see cref="PredictionScore"/>: the predicted class's softmax or sigmoid
/// probability, or a regression head's raw output); AOPC is the mean drop over the fractions. Higher = the method's
/// top tokens matter more to the model. ERASER's comprehensiveness proper, with the tokens deleted rather than masked,
/// and its sufficiency are <see cref="Eraser"/>.
/// </summary>
public static class Aopc
{
    /// <summary>The fractions k of the evaluation: 10, 20, 30, 40 and 50 %.</summary>
    public static IReadOnlyList<double> DefaultFractions { get; } = [0.1, 0.2, 0.3, 0.4, 0.5];

    /// <summary>The candidate positions ordered by descending score (ties: earlier position first).</summary>
    public static int[] Ranking(IReadOnlyList<int> positions, IReadOnlyList<double> scores)
    {
        if (positions.Count != scores.Count) throw new ArgumentException($"{positions.Count} positions but {scores.Count} scores", nameof(scores));
        return Enumerable.Range(0, positions.Count)
            .OrderByDescending(k => double.IsNaN(scores[k]) ? double.NegativeInfinity : scores[k])
            .ThenBy(k => positions[k])
            .Select(k => positions[k])
            .ToArray();
    }

    /// <summary>How many of <paramref name="m"/> tokens fraction <paramref name="k"/> removes: ⌈k·m⌉ (guarded against
    /// float error, e.g. 0.3·10 = 3.0000000000000004).</summary>
    public static int Count(double k, int m) => Math.Min(m, (int)Math.Ceiling(k * m - 1e-9));

    /// <summary>
    /// The drops p − p_k for each fraction (one batch through <paramref name="score"/>) and their mean (AOPC).
    /// </summary>
    /// <param name="ids">the original token ids.</param>
    /// <param name="positions">the m candidate positions (the non-special tokens).</param>
    /// <param name="scores">the method's score for each candidate (same order as <paramref name="positions"/>).</param>
    /// <param name="maskId">the [MASK] token id.</param>
    /// <param name="p">the prediction's score on the original input (<see cref="PredictionScore"/>: a probability, or a regression output).</param>
    /// <param name="score">the same prediction's score for a batch of variants.</param>
    /// <param name="fractions">the fractions k (null: <see cref="DefaultFractions"/>).</param>
    public static (double Aopc, double[] Drops) Compute(int[] ids, IReadOnlyList<int> positions, IReadOnlyList<double> scores,
        int maskId, double p, ClassScore score, IReadOnlyList<double>? fractions = null)
    {
        fractions ??= DefaultFractions;
        if (fractions.Count == 0) throw new ArgumentException("no fractions", nameof(fractions));
        if (positions.Count == 0) throw new ArgumentException("no candidate positions", nameof(positions));
        var ranking = Ranking(positions, scores);
        var batch = fractions.Select(k =>
        {
            var variant = (int[])ids.Clone();
            for (int r = 0; r < Count(k, ranking.Length); r++) variant[ranking[r]] = maskId;
            return variant;
        }).ToArray();
        var pk = score(batch);
        if (pk.Length != batch.Length) throw new InvalidOperationException($"the score function returned {pk.Length} values for {batch.Length} inputs");
        var drops = pk.Select(x => p - x).ToArray();
        return (drops.Average(), drops);
    }
}
