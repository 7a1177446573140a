using MixLens.Analysis.Numerics;
using MixLens.Engine;
using MixLens.Engine.Gradients;
using MixLens.Engine.Heads;
using MixLens.Engine.Model;

namespace MixLens.Analysis.Methods;

/// <summary>Integrated gradients of one text: the scores [n], and the completeness check Σ_j IG_j ≈ z_c(x) − z_c(x').</summary>
/// <param name="Scores">IG_j per token [n], signed.</param>
/// <param name="Target">the class c.</param>
/// <param name="Sum">Σ_j IG_j.</param>
/// <param name="Gap">z_c(x) − z_c(x'), which <see cref="Sum"/> approaches as the steps grow (Sundararajan et al.,
/// Proposition 1).</param>
public sealed record IntegratedGradientsResult(float[] Scores, int Target, double Sum, double Gap);

/// <summary>
/// Integrated gradients (Sundararajan, Taly &amp; Yan 2017, "Axiomatic Attribution for Deep Networks", Eq. 1), on the
/// word-embedding rows x_j:
/// <code>
///   IG_j = Σ_k (x_jk − x′_jk) ∫₀¹ ∂z_c/∂x_jk (x′ + α(x − x′)) dα  ≈  Σ_k (x_jk − x′_jk) Σ_s w_s ∂z_c/∂x_jk (x′ + α_s(x − x′))
/// </code>
/// with the m-point Gauss–Legendre rule mapped to [0, 1] (α_s = (1 + ξ_s)/2, w_s = ω_s/2; captum's default rule, 50
/// points). Baseline x′_j = the pad token's word embedding for non-special tokens and x_j itself for special tokens
/// (ferret's choice: [CLS] and [SEP] are kept). The m interpolated copies run as packed batches (one taped forward and
/// one backward per batch), so the cost is about m forwards and m backwards, shared over few GEMM calls.
/// </summary>
public static class IntegratedGradients
{
    /// <summary>Default number of Gauss–Legendre points (captum's <c>n_steps</c>).</summary>
    public const int DefaultSteps = 50;

    /// <summary>Computes IG for one text.</summary>
    /// <param name="special">per token, whether it is a special token (baseline = the token itself).</param>
    /// <param name="padTokenId">the pad token, whose word embedding is the baseline of the other tokens.</param>
    /// <param name="target">the class c (null: the predicted class).</param>
    /// <param name="steps">m ≥ 1.</param>
    /// <exception cref="ArgumentOutOfRangeException">steps &lt; 1, a target that is not a class, or a pad id outside
    /// the vocabulary.</exception>
    /// <param name="progress">receives the fraction of the steps done, after each batch of them (null: none).</param>
    /// <exception cref="ArgumentException">the special mask has the wrong length.</exception>
    public static IntegratedGradientsResult Compute(BertEncoder encoder, SequenceClassifier head, EncoderInput input,
        IReadOnlyList<bool> special, int padTokenId, int? target = null, int steps = DefaultSteps, IProgress<double>? progress = null)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "integrated gradients needs at least 1 step");
        int n = input.Length, E = encoder.Config.EmbeddingSize;
        if (special.Count != n) throw new ArgumentException($"special-token mask has {special.Count} entries for {n} tokens", nameof(special));
        if ((uint)padTokenId >= (uint)encoder.Config.VocabSize)
            throw new ArgumentOutOfRangeException(nameof(padTokenId), padTokenId, $"the pad token id is outside the vocabulary 0..{encoder.Config.VocabSize - 1}");

        var x = ClassifierGradient.WordRows(encoder, input).Data;
        var pad = encoder.Weights.Embeddings.Word.Span.Slice(padTokenId * E, E);
        var baseline = new float[n * E];
        for (int j = 0; j < n; j++)
            (special[j] ? x.AsSpan(j * E, E) : pad).CopyTo(baseline.AsSpan(j * E, E));

        // z(x) and z(x′) (the completeness check), and the target class from the unperturbed text
        // (the classifier reads the first token only, so every forward here computes the last layer there alone)
        var ends = EncoderGradients.Forward(encoder, [new GradientInput(input), new GradientInput(input, baseline)], firstTokensOnly: true);
        var logits = head.Classify(ends.LastHiddenState(0)).Logits;
        int c = ClassifierGradient.ResolveTarget(head, logits, target);
        double gap = logits[c] - (double)head.Classify(ends.LastHiddenState(1)).Logits[c];

        // Σ_s w_s ∂z_c/∂x (x′ + α_s (x − x′))                                               [n, E]
        var (nodes, weights) = GaussLegendre.Rule(steps);
        var averaged = new double[n * E];
        int perBatch = EncoderGradients.CopiesPerBatch(encoder.Config, n);
        for (int s0 = 0; s0 < steps; s0 += perBatch)
        {
            int count = Math.Min(perBatch, steps - s0);
            var batch = new GradientInput[count];
            for (int b = 0; b < count; b++)
            {
                double alpha = (1 + nodes[s0 + b]) / 2;
                var xs = new float[n * E];
                for (int e = 0; e < xs.Length; e++) xs[e] = (float)(baseline[e] + alpha * ((double)x[e] - baseline[e]));
                batch[b] = new GradientInput(input, xs);
            }
            var forward = EncoderGradients.Forward(encoder, batch, firstTokensOnly: true);
            var seeds = new Tensor[count];
            for (int b = 0; b < count; b++) seeds[b] = ClassifierGradient.OfLogit(head, forward.LastHiddenState(b), c);
            var gradients = EncoderGradients.Backward(forward, seeds);
            for (int b = 0; b < count; b++)
            {
                double w = weights[s0 + b] / 2;
                var g = gradients[b].WordEmbeddings!.Data;
                for (int e = 0; e < averaged.Length; e++) averaged[e] += w * g[e];
            }
        }

        // IG_j = Σ_k (x_jk − x′_jk) · averaged_jk
        var scores = new float[n];
        double sum = 0;
        for (int j = 0; j < n; j++)
        {
            double ig = 0;
            for (int k = 0; k < E; k++) ig += ((double)x[j * E + k] - baseline[j * E + k]) * averaged[j * E + k];
            scores[j] = (float)ig;
            sum += ig;
        }
        return new IntegratedGradientsResult(scores, c, sum, gap);
    }
}
