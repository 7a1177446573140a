using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Saliency (Simonyan, Vedaldi &amp; Zisserman 2014, "Deep Inside Convolutional Networks", §3; for text, the gradient
/// L2 norm of LIT and ferret): s_j = ‖∂z_c/∂x_j‖₂, x_j the word-embedding row of token j, z_c the target class's logit.
/// One forward and one backward.
/// </summary>
public static class Saliency
{
    /// <summary>s [n], one non-negative score per token.</summary>
    /// <param name="target">the class c (null: the predicted class).</param>
    /// <exception cref="ArgumentOutOfRangeException">the target is not a class of the head.</exception>
    public static float[] Compute(BertEncoder encoder, SequenceClassifier head, EncoderInput input, int? target = null)
    {
        var (gradient, _, _) = ClassifierGradient.OfWordEmbeddings(encoder, head, input, target);
        var s = new float[input.Length];
        for (int j = 0; j < s.Length; j++) s[j] = VectorOps.L2Norm(gradient.Row(j));
        return s;
    }
}
