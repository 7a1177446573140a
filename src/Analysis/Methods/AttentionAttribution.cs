using MixLens.Engine;
using MixLens.Engine.Gradients;
using MixLens.Engine.Heads;
using MixLens.Engine.Interventions;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Attention attribution (Hao, Dong, Wei &amp; Xu 2021, "Self-Attention Attribution: Interpreting Information
/// Interactions Inside Transformer", AAAI, Eq. 2–3): the integrated gradient of the predicted class's probability p_c
/// with respect to each layer's attention probabilities, from a zero baseline, by the left Riemann sum of the authors'
/// code:
/// <code>
///   Attr_h^l = A_h^l ⊙ (1/m) Σ_{s=0}^{m−1} ∂p_c/∂A_h^l |_(A^l ← (s/m) A^l)          [L, H, n, n]
/// </code>
/// where layer l's probabilities (all heads at once) are replaced by (s/m)·A^l while every other layer is computed
/// normally from its input (<see cref="ScaleAttentionProbs"/>). Per layer, the m scaled copies run as one packed batch
/// from layer l's input (the layers below are the same for every copy and run once): a taped forward of layers l..L−1
/// and a backward that stops at layer l. Cost: m·L(L+1)/2 layer forwards and as many layer backwards, about m(L+1)
/// forwards of the text.
/// </summary>
public static class AttentionAttribution
{
    /// <summary>Default m (the authors' <c>num_batch</c> × batch size: 20 steps).</summary>
    public const int DefaultSteps = 20;

    /// <summary>Attr per head [L, H, n, n], row i = query token, column j = key token.</summary>
    /// <param name="target">the class c (null: the predicted class).</param>
    /// <param name="steps">m ≥ 1.</param>
    /// <param name="progress">receives the fraction of the (layer, step) pairs done, after each batch (null: none).</param>
    /// <param name="allLayers">true: every layer. false: only the last layer (the others left zero), what
    /// <c>evaluate</c> reads (row 0 of the last layer); each layer's attribution is computed on its own, so the last
    /// layer's is identical either way, at 1/(L(L+1)/2) of the cost (one layer forward and backward per step instead of
    /// L(L+1)/2).</param>
    /// <exception cref="ArgumentOutOfRangeException">steps &lt; 1 or a target that is not a class.</exception>
    public static Tensor ComputeHeads(BertEncoder encoder, SequenceClassifier head, EncoderInput input, int? target = null,
        int steps = DefaultSteps, IProgress<double>? progress = null, bool allLayers = true)
    {
        if (steps < 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "attention attribution needs at least 1 step");
        var config = encoder.Config;
        int L = config.NumHiddenLayers, H = config.NumAttentionHeads, n = input.Length;
        var original = EncoderGradients.Forward(encoder, [new GradientInput(input)]);
        int c = ClassifierGradient.ResolveTarget(head, head.Classify(original.LastHiddenState(0)).Logits, target);
        // each layer's input X^l: the scaled copies of layer l share layers below l, which are not run again
        var hidden = encoder.Forward(input, TraceRequest.HiddenStates).Trace;

        var result = Tensor.Zeros(L, H, n, n);
        int perBatch = EncoderGradients.CopiesPerBatch(encoder.Config, n);
        int firstLayer = allLayers ? 0 : L - 1;
        for (int l = firstLayer; l < L; l++)
        {
            // (1/m) Σ_s ∂p_c/∂A^l at A^l ← (s/m) A^l                                            [H, n, n]
            var averaged = new double[H * n * n];
            for (int s0 = 0; s0 < steps; s0 += perBatch)
            {
                int count = Math.Min(perBatch, steps - s0);
                var factors = Enumerable.Range(s0, count).Select(s => (float)((double)s / steps)).ToArray();
                var layerInput = l == 0 ? hidden[TraceNames.EmbeddingsOutput] : hidden[l - 1, LayerStep.Output];
                // below the last layer, the last layer runs at the first token only (what the classifier reads)
                var forward = EncoderGradients.ForwardFromLayer(encoder, input, l, layerInput, count, new ScaleAttentionProbs(l, factors),
                    firstTokensOnly: l < L - 1);
                var seeds = new Tensor[count];
                for (int b = 0; b < count; b++) seeds[b] = ClassifierGradient.OfProbability(head, forward.LastHiddenState(b), c);
                var gradients = EncoderGradients.Backward(forward, seeds, attentionProbs: true, lowestLayer: l);
                foreach (var g in gradients)
                {
                    var dA = g.AttentionProbs[l]!.Data;
                    for (int e = 0; e < averaged.Length; e++) averaged[e] += dA[e];
                }
                progress?.Report(((double)(l - firstLayer) * steps + s0 + count) / ((double)(L - firstLayer) * steps));
            }
            // Attr^l = A^l ⊙ average
            var probs = original.AttentionProbs(0, l).Data;
            var attr = result.Data.AsSpan(l * H * n * n, H * n * n);
            for (int e = 0; e < attr.Length; e++) attr[e] = (float)(probs[e] * averaged[e] / steps);
        }
        return result;
    }

    /// <summary>The head sum Σ_h Attr_h^l [L, n, n] (the authors' attribution map), or one head's [L, n, n].</summary>
    /// <param name="heads">[L, H, n, n] from <see cref="ComputeHeads"/>.</param>
    /// <param name="head">null: the sum over heads; else that head alone.</param>
    /// <exception cref="ArgumentOutOfRangeException">the head does not exist.</exception>
    public static Tensor Reduce(Tensor heads, int? head = null)
    {
        int L = heads.Shape[0], H = heads.Shape[1], n = heads.Shape[2];
        if (head is int only && (uint)only >= (uint)H)
            throw new ArgumentOutOfRangeException(nameof(head), only, $"head {only} does not exist; the model has heads 0..{H - 1}");
        var result = Tensor.Zeros(L, n, n);
        for (int l = 0; l < L; l++)
        for (int h = 0; h < H; h++)
        {
            if (head is int keep && keep != h) continue;
            var src = heads.Data.AsSpan((l * H + h) * n * n, n * n);
            var dst = result.Data.AsSpan(l * n * n, n * n);
            System.Numerics.Tensors.TensorPrimitives.Add(dst, src, dst);
        }
        return result;
    }
}
