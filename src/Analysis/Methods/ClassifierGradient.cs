using MixLens.Engine;
using MixLens.Engine.Gradients;
using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Analysis.Methods;

/// <summary>
/// What the gradient methods differentiate: a sequence classifier's logit z_c, or its softmax probability p_c, of a
/// target class c (by default the class predicted on the unperturbed text), and that scalar's gradient at the encoder's
/// last hidden state X^L [n, d] (only row 0, the first token the head reads, is nonzero).
/// </summary>
public static class ClassifierGradient
{
    /// <summary>c: <paramref name="target"/> when given (checked against the labels), else argmax of the logits.</summary>
    /// <exception cref="ArgumentOutOfRangeException">the target is not a label of the head.</exception>
    public static int ResolveTarget(SequenceClassifier head, ReadOnlySpan<float> logits, int? target)
    {
        if (target is int c)
        {
            if ((uint)c >= (uint)head.Labels.Count)
                throw new ArgumentOutOfRangeException(nameof(target), c,
                    $"target class {c} does not exist: the classifier has classes 0..{head.Labels.Count - 1} ({string.Join(", ", head.Labels)})");
            return c;
        }
        return System.Numerics.Tensors.TensorPrimitives.IndexOfMax(logits);
    }

    /// <summary>∂z_c/∂X^L [n, d] of a text whose last hidden state is <paramref name="lastHidden"/>.</summary>
    public static Tensor OfLogit(SequenceClassifier head, Tensor lastHidden, int c)
    {
        var dLogits = new float[head.Labels.Count];
        dLogits[c] = 1;
        return AtFirstToken(head, lastHidden, dLogits);
    }

    /// <summary>∂p_c/∂X^L [n, d], p = softmax(z): ∂p_c/∂z = p_c (e_c − p).</summary>
    public static Tensor OfProbability(SequenceClassifier head, Tensor lastHidden, int c)
    {
        var p = head.Classify(lastHidden).Logits;
        Softmax.Rows(p, 1, p.Length);
        var dLogits = new float[p.Length];
        for (int k = 0; k < p.Length; k++) dLogits[k] = p[c] * ((k == c ? 1 : 0) - p[k]);
        return AtFirstToken(head, lastHidden, dLogits);
    }

    static Tensor AtFirstToken(SequenceClassifier head, Tensor lastHidden, float[] dLogits)
    {
        var g = Tensor.Zeros(lastHidden.Shape[0], lastHidden.Shape[1]);
        head.Backward(lastHidden, dLogits).CopyTo(g.Row(0));
        return g;
    }

    /// <summary>
    /// ∂z_c/∂x_j for every token j [n, E] (x_j the word-embedding row), with the target c used and the text's word
    /// rows x [n, E]: one taped forward and one backward.
    /// </summary>
    public static (Tensor Gradient, Tensor WordRows, int Target) OfWordEmbeddings(BertEncoder encoder, SequenceClassifier head,
        EncoderInput input, int? target)
    {
        // the classifier reads the first token only: the last layer is computed (and differentiated) there alone
        var forward = EncoderGradients.Forward(encoder, [new GradientInput(input)], firstTokensOnly: true);
        var lastHidden = forward.LastHiddenState(0);
        int c = ResolveTarget(head, head.Classify(lastHidden).Logits, target);
        var gradients = EncoderGradients.Backward(forward, [OfLogit(head, lastHidden, c)]);
        return (gradients[0].WordEmbeddings!, WordRows(encoder, input), c);
    }

    /// <summary>The text's word-embedding rows x = E_word[ids] [n, E].</summary>
    public static Tensor WordRows(BertEncoder encoder, EncoderInput input)
    {
        int E = encoder.Config.EmbeddingSize, n = input.Length;
        var table = encoder.Weights.Embeddings.Word.Span;
        var x = new float[n * E];
        for (int j = 0; j < n; j++) table.Slice(input.InputIds[j] * E, E).CopyTo(x.AsSpan(j * E, E));
        return new Tensor(x, n, E);
    }
}
