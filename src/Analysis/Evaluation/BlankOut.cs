namespace MixLens.Analysis.Evaluation;

/// <summary>
/// Blank-out (leave-one-out) importance: for each position j, p − p_j, where p is the probability of the predicted
/// class on the original input and p_j that class's probability with token j replaced by [MASK]. The gradient-free
/// reference against which Mohebbi et al. 2023 (arXiv:2301.12971) correlate context-mixing scores.
/// </summary>
public static class BlankOut
{
    /// <summary>
    /// p − p_j for each of <paramref name="positions"/>; all variants go to <paramref name="probability"/> as one batch.
    /// </summary>
    /// <param name="ids">the original token ids.</param>
    /// <param name="positions">the positions to blank out (e.g. the non-special tokens).</param>
    /// <param name="maskId">the [MASK] token id.</param>
    /// <param name="p">the predicted class's probability on the original input.</param>
    /// <param name="probability">the same class's probability for a batch of variants.</param>
    public static double[] Importances(int[] ids, IReadOnlyList<int> positions, int maskId, double p, ClassProbability probability)
    {
        if (positions.Count == 0) return [];
        var batch = positions.Select(j =>
        {
            if (j < 0 || j >= ids.Length) throw new ArgumentOutOfRangeException(nameof(positions), $"position {j} outside 0..{ids.Length - 1}");
            var variant = (int[])ids.Clone();
            variant[j] = maskId;
            return variant;
        }).ToArray();
        var pj = probability(batch);
        if (pj.Length != batch.Length) throw new InvalidOperationException($"the probability function returned {pj.Length} values for {batch.Length} inputs");
        return pj.Select(x => p - x).ToArray();
    }
}
