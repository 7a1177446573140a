using MixLens.Engine;
using MixLens.Engine.Gradients;
using MixLens.Engine.Heads;
using MixLens.Engine.Model;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Gradient-weighted attention relevance of Chefer, Gur &amp; Wolf 2021 ("Generic Attention-model Explainability for
/// Interpreting Bi-Modal and Encoder-Decoder Transformers", ICCV, Eq. 5–6, the self-attention rule):
/// <code>
///   Ā^l = mean_h (∂z_c/∂A_h^l ⊙ A_h^l)⁺           clamp each head's product at 0, then the head mean      [n, n]
///   R⁰ = I,   R^l = R^{l−1} + Ā^l R^{l−1}                                                              [n, n]
/// </code>
/// Entry l−1 of the result is R^l; the token map is row 0 ([CLS]) of R^L. One forward and one backward.
/// </summary>
public static class Chefer
{
    /// <summary>R^1 … R^L [L, n, n].</summary>
    /// <param name="target">the class c (null: the predicted class).</param>
    /// <exception cref="ArgumentOutOfRangeException">a target that is not a class.</exception>
    public static Tensor Compute(BertEncoder encoder, SequenceClassifier head, EncoderInput input, int? target = null)
    {
        var config = encoder.Config;
        int L = config.NumHiddenLayers, H = config.NumAttentionHeads, n = input.Length;
        var forward = EncoderGradients.Forward(encoder, [new GradientInput(input)]);
        var lastHidden = forward.LastHiddenState(0);
        int c = ClassifierGradient.ResolveTarget(head, head.Classify(lastHidden).Logits, target);
        var gradients = EncoderGradients.Backward(forward, [ClassifierGradient.OfLogit(head, lastHidden, c)], attentionProbs: true)[0];

        var result = Tensor.Zeros(L, n, n);
        var r = new double[n * n];
        for (int i = 0; i < n; i++) r[i * n + i] = 1;                       // R⁰ = I
        var aBar = new double[n * n];
        var next = new double[n * n];
        for (int l = 0; l < L; l++)
        {
            // Ā^l = mean_h (∂z_c/∂A_h ⊙ A_h)⁺
            var probs = forward.AttentionProbs(0, l).Data;
            var dProbs = gradients.AttentionProbs[l]!.Data;
            Array.Clear(aBar);
            for (int h = 0; h < H; h++)
                for (int e = 0; e < n * n; e++)
                    aBar[e] += Math.Max(0.0, (double)dProbs[h * n * n + e] * probs[h * n * n + e]) / H;
            // R^l = R^{l−1} + Ā^l R^{l−1}
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double sum = r[i * n + j];
                    for (int k = 0; k < n; k++) sum += aBar[i * n + k] * r[k * n + j];
                    next[i * n + j] = sum;
                }
            (r, next) = (next, r);
            for (int e = 0; e < n * n; e++) result.Data[l * n * n + e] = (float)r[e];
        }
        return result;
    }
}
