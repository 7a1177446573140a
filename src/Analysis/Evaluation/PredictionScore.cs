using MixLens.Engine.Heads;

namespace MixLens.Analysis.Evaluation;

/// <summary>
/// What blank-out importance (<see cref="BlankOut"/>) and AOPC (<see cref="Aopc"/>) watch drop, by the head's
/// <see cref="ScoreFunction"/> (HF's text-classification pipeline default, <see cref="SequenceClassifier.FunctionOf"/>);
/// all in float64 from the float32 logits z [labels]:
/// <code>
/// function              prediction c                          score s(z)
/// softmax               argmax_k z_k                          softmax(z)_c
/// sigmoid, 2+ labels    argmax_k z_k                          σ(z_c)                  (multi-label: the top label's own probability)
/// sigmoid, 1 logit      1 if z_0 &gt; 0 else 0                  σ(z_0) if c = 1, else 1 − σ(z_0) = σ(−z_0)
/// none (regression)     argmax_k z_k (0 for one output)       z_c, the raw output
/// </code>
/// A one-logit sigmoid head is a binary classifier: σ(z_0) is HF's probability that its one label holds
/// (BCEWithLogitsLoss with target 1, the pipeline's score for LABEL_0), so the prediction is the decision
/// σ(z_0) &gt; ½ (class 1, "positive") or not (class 0, "negative"), and its score is the probability of that decision:
/// p for class 1, 1 − p for class 0, the same class on the original and on every variant. Ties go to the lower index.
/// </summary>
public static class PredictionScore
{
    /// <summary>The prediction c for logits z [labels] (see the table).</summary>
    /// <exception cref="ArgumentException">no logits.</exception>
    public static int Predicted(IReadOnlyList<float> logits, ScoreFunction function)
    {
        if (logits.Count == 0) throw new ArgumentException("no logits", nameof(logits));
        if (function == ScoreFunction.Sigmoid && logits.Count == 1) return logits[0] > 0 ? 1 : 0;
        int best = 0;
        for (int k = 1; k < logits.Count; k++) if (logits[k] > logits[best]) best = k;
        return best;
    }

    /// <summary>The score s(z) of prediction <paramref name="predicted"/> (see the table).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="predicted"/> is not a prediction of these logits
    /// (0 or 1 for one sigmoid logit, else 0 … labels − 1).</exception>
    public static double Of(IReadOnlyList<float> logits, int predicted, ScoreFunction function)
    {
        int classes = Classes(logits.Count, function);
        if ((uint)predicted >= (uint)classes)
            throw new ArgumentOutOfRangeException(nameof(predicted), predicted, $"not one of the {classes} predictions of these logits");
        return function switch
        {
            ScoreFunction.Softmax => Softmax(logits)[predicted],
            ScoreFunction.Sigmoid when logits.Count == 1 => Sigmoid(predicted == 1 ? logits[0] : -logits[0]),
            ScoreFunction.Sigmoid => Sigmoid(logits[predicted]),
            ScoreFunction.None => logits[predicted],
            _ => throw new ArgumentOutOfRangeException(nameof(function), function, "unknown score function"),
        };
    }

    /// <summary>How many predictions (class ids) a head with <paramref name="labels"/> outputs makes: 2 for one
    /// sigmoid logit (negative, positive), else <paramref name="labels"/>.</summary>
    public static int Classes(int labels, ScoreFunction function) =>
        function == ScoreFunction.Sigmoid && labels == 1 ? 2 : labels;

    /// <summary>σ(z) = 1 / (1 + e^(−z)) in float64.</summary>
    public static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    /// <summary>Softmax in float64 (the differences p − p_j can be small).</summary>
    public static double[] Softmax(IReadOnlyList<float> logits)
    {
        double max = logits.Max();
        var e = logits.Select(x => Math.Exp(x - max)).ToArray();
        double sum = e.Sum();
        return e.Select(x => x / sum).ToArray();
    }
}
