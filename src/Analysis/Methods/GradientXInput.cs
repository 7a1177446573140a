using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Gradient × input (Shrikumar et al. 2017, "Learning Important Features Through Propagating Activation Differences";
/// captum's InputXGradient, ferret): s_j = Σ_k x_jk ∂z_c/∂x_jk, signed, x_j the word-embedding row of token j.
/// One forward and one backward.
/// </summary>
public static class GradientXInput
{
    /// <summary>s [n], one signed score per token.</summary>
    /// <param name="target">the class c (null: the predicted class).</param>
    /// <exception cref="ArgumentOutOfRangeException">the target is not a class of the head.</exception>
    public static float[] Compute(BertEncoder encoder, SequenceClassifier head, EncoderInput input, int? target = null)
    {
        var (gradient, x, _) = ClassifierGradient.OfWordEmbeddings(encoder, head, input, target);
        var s = new float[input.Length];
        for (int j = 0; j < s.Length; j++) s[j] = VectorOps.Dot(x.Row(j), gradient.Row(j));
        return s;
    }
}
