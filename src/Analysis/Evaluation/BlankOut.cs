namespace MixLens.Analysis.Evaluation;

/// <summary>
/// Blank-out (leave-one-out) importance: for each position j, p − p_j, where p is the score of the prediction on the
/// original input and p_j the same prediction's score with token j replaced by [MASK]; the score follows the head's
/// function (<see cref="PredictionScore"/>): the softmax probability of the predicted class, the sigmoid probability of
/// the predicted label (or decision, for one logit), or a regression head's raw output y (importance y − y_j). The
/// gradient-free reference against which Mohebbi et al. 2023 (arXiv:2301.12971) correlate context-mixing scores.
/// </summary>
public static class BlankOut
{
    /// <summary>
    /// p − p_j for each of <paramref name="positions"/>; all variants go to <paramref name="score"/> as one batch.
    /// </summary>
    /// <param name="ids">the original token ids.</param>
    /// <param name="positions">the positions to blank out (e.g. the non-special tokens).</param>
    /// <param name="maskId">the [MASK] token id.</param>
    /// <param name="p">the prediction's score on the original input (<see cref="PredictionScore"/>: a probability, or a regression output).</param>
    /// <param name="score">the same prediction's score for a batch of variants.</param>
    public static double[] Importances(int[] ids, IReadOnlyList<int> positions, int maskId, double p, ClassScore score)
    {
        if (positions.Count == 0) return [];
        var batch = positions.Select(j =>
        {
            if (j < 0 || j >= ids.Length) throw new ArgumentOutOfRangeException(nameof(positions), $"position {j} outside 0..{ids.Length - 1}");
            var variant = (int[])ids.Clone();
            variant[j] = maskId;
            return variant;
        }).ToArray();
        var pj = score(batch);
        if (pj.Length != batch.Length) throw new InvalidOperationException($"the score function returned {pj.Length} values for {batch.Length} inputs");
        return pj.Select(x => p - x).ToArray();
    }
}
