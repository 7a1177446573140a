using MixLens.Engine.Interventions;
using MixLens.Engine.Model;

namespace MixLens.Engine.Gradients;

/// <summary>One text of a gradient batch: its ids, and optionally its own word-embedding rows x [n, E] used in place of
/// E_word[id] (integrated gradients runs interpolations x' + α(x − x') this way).</summary>
public sealed record GradientInput(EncoderInput Input, float[]? WordEmbeddings = null);

/// <summary>A forward pass of a batch kept for <see cref="EncoderGradients.Backward"/> (its tape holds, per layer and
/// token, about 5d + f floats plus the attention probabilities).</summary>
public sealed class TapedForward
{
    internal TapedForward(BertEncoder encoder, EncoderTape tape) => (Encoder, Tape) = (encoder, tape);

    internal BertEncoder Encoder { get; }
    internal EncoderTape Tape { get; }

    /// <summary>Texts in the batch.</summary>
    public int Count => Tape.Batch.Count;

    /// <summary>Token count of text <paramref name="s"/>.</summary>
    public int Length(int s) => Tape.Batch.Lengths[s];

    /// <summary>Text <paramref name="s"/>'s last hidden state X^L [n, d] (of a forward taped at the first tokens only:
    /// row 0, the others NaN).</summary>
    public Tensor LastHiddenState(int s)
    {
        int d = Encoder.Config.HiddenSize;
        return new Tensor(Tape.Batch.Rows(Tape.LastHidden, s, d).ToArray(), Tape.Batch.Lengths[s], d);
    }

    /// <summary>Text <paramref name="s"/>'s attention probabilities in layer <paramref name="layer"/> [H, n, n], as the
    /// forward used them (after any patch).</summary>
    public Tensor AttentionProbs(int s, int layer)
    {
        int n = Tape.Batch.Lengths[s], heads = Encoder.Config.NumAttentionHeads;
        return new Tensor(Tape.Layers[layer].Probs.AsSpan(Tape.ProbsOffsets[s], heads * n * n).ToArray(), heads, n, n);
    }
}

/// <summary>
/// The gradients of a scalar ℓ (e.g. a class logit) with respect to one text's inputs and activations:
/// <code>
///   WordEmbeddings     [n, E]      ∂ℓ/∂x_j, x_j the word-embedding row of token j (null when the backward stopped early
///                                  or the forward started from a given layer input)
///   EmbeddingsOutput   [n, d]      ∂ℓ/∂e⁰, e⁰ = embeddings.output (null when the backward stopped early)
///   AttentionProbs     [L] of [H, n, n] or null per layer: ∂ℓ/∂A_h^l, where asked for
/// </code>
/// </summary>
public sealed record InputGradients(Tensor? WordEmbeddings, Tensor? EmbeddingsOutput, Tensor?[] AttentionProbs);

/// <summary>
/// Reverse-mode differentiation of the encoder (backpropagation, Rumelhart et al. 1986): a taped forward, then the
/// backward of each block in reverse order (<see cref="EncoderLayer"/>'s <c>Backward</c>, <see cref="SelfAttention"/>'s
/// and <see cref="EncoderEmbeddings"/>'s), on packed batches through the same GEMM kernels as the forward. Gradients
/// are taken with respect to inputs and activations only (no weight gradients), so a backward costs about one forward.
/// </summary>
public static class EncoderGradients
{
    /// <summary>Bytes of tape one copy of an n-token text keeps per taped forward: per layer and token 5d + f floats
    /// (Q, K, V, the two residual sums, the FFN pre-activation) plus H·n attention probabilities.</summary>
    public static long TapeBytes(EncoderConfig config, int n) =>
        4L * config.NumHiddenLayers * n * (5L * config.HiddenSize + config.IntermediateSize + (long)config.NumAttentionHeads * n + 6);

    /// <summary>How many copies of an n-token text to run per packed batch (integrated gradients' interpolations,
    /// attention attribution's scalings): enough rows to keep the GEMM tiles full (up to 2048 tokens), few enough that
    /// the batch's tape stays within 256 MiB; at least 1.</summary>
    public static int CopiesPerBatch(EncoderConfig config, int n) =>
        (int)Math.Clamp(Math.Min(2048 / Math.Max(n, 1), (256L << 20) / TapeBytes(config, n)), 1, int.MaxValue);

    /// <summary>Runs the forward of a batch and keeps its tape. Texts are packed (any lengths), as in
    /// <see cref="BertEncoder.Forward(IReadOnlyList{EncoderInput}, Tracing.TraceRequest?, IActivationPatch?)"/>.</summary>
    /// <param name="patch">an intervention, typically on <see cref="Tracing.LayerStep.Probs"/> (replacing a layer's attention
    /// probabilities, as attention attribution does); the backward then differentiates the patched forward, treating
    /// the patched values as inputs.</param>
    /// <param name="firstTokensOnly">compute the last layer at the first token of each text only
    /// (<see cref="EncoderLayer.ForwardFirstTokens"/>: the [CLS] / &lt;s&gt; row a sequence classifier reads), about 1/6
    /// of that layer's work, and as much again in the backward. The last hidden state then has its first row only
    /// (the others NaN), the backward takes output gradients that are zero outside the first rows, and the last
    /// layer's attention-probability gradient is nonzero in row 0 only (exactly: no other row of its A reaches the
    /// first token). Takes no patch of the last layer.</param>
    /// <exception cref="EncoderInputException">an input the encoder cannot take.</exception>
    /// <exception cref="ArgumentException">a word-embedding override of the wrong length, or a patch of the last layer
    /// with <paramref name="firstTokensOnly"/>.</exception>
    public static TapedForward Forward(BertEncoder encoder, IReadOnlyList<GradientInput> batch, IActivationPatch? patch = null,
        bool firstTokensOnly = false)
    {
        RequireProbsOnly(encoder, patch);
        var inputs = batch.Select(b => b.Input).ToArray();
        float[]?[]? rows = batch.Any(b => b.WordEmbeddings is not null) ? batch.Select(b => b.WordEmbeddings).ToArray() : null;
        return new TapedForward(encoder, encoder.ForwardTaped(inputs, rows, patch, firstTokensOnly: firstTokensOnly));
    }

    /// <summary>
    /// Runs <paramref name="copies"/> copies of one text from layer <paramref name="layer"/> on, from that layer's
    /// input X^layer [n, d] (<c>embeddings.output</c> for layer 0, else the trace's <c>layers.{layer-1}.output</c>),
    /// with <paramref name="patch"/> (e.g. a different attention scaling per copy), keeping the tape of layers ≥ layer.
    /// The layers below are not run again: attention attribution's scaled copies share them. The backward of such a
    /// forward must stop at or above <paramref name="layer"/>.
    /// </summary>
    /// <exception cref="ArgumentException">the layer does not exist, copies &lt; 1, or the input is not [n, d].</exception>
    /// <param name="firstTokensOnly">the last layer at the first tokens only, as in <see cref="Forward"/>.</param>
    public static TapedForward ForwardFromLayer(BertEncoder encoder, EncoderInput input, int layer, Tensor layerInput, int copies,
        IActivationPatch? patch = null, bool firstTokensOnly = false)
    {
        int d = encoder.Config.HiddenSize, n = input.Length;
        if ((uint)layer >= (uint)encoder.Config.NumHiddenLayers)
            throw new ArgumentException($"layer {layer} does not exist; the model has layers 0..{encoder.Config.NumHiddenLayers - 1}", nameof(layer));
        if (copies < 1) throw new ArgumentException($"at least one copy is needed, not {copies}", nameof(copies));
        if (layerInput.Rank != 2 || layerInput.Shape[0] != n || layerInput.Shape[1] != d)
            throw new ArgumentException($"layer input [{string.Join(", ", layerInput.Shape)}], expected [{n}, {d}]", nameof(layerInput));
        RequireProbsOnly(encoder, patch);
        var packed = new float[copies * n * d];
        for (int b = 0; b < copies; b++) layerInput.Data.CopyTo(packed, b * n * d);
        var batch = Enumerable.Repeat(input, copies).ToArray();
        return new TapedForward(encoder, encoder.ForwardTaped(batch, null, patch, layer, packed, firstTokensOnly));
    }

    /// <summary>The backward treats patched values as inputs only for the attention probabilities (its softmax then
    /// passes no gradient); a patch on any other step would be differentiated as if absent, so it is refused.</summary>
    static void RequireProbsOnly(BertEncoder encoder, IActivationPatch? patch)
    {
        if (patch is null) return;
        for (int l = 0; l < encoder.Config.NumHiddenLayers; l++)
            foreach (var step in Enum.GetValues<Tracing.LayerStep>())
                if (step != Tracing.LayerStep.Probs && patch.Targets(l, step))
                    throw new ArgumentException($"a taped forward takes patches of the attention probabilities only (the backward treats those as inputs); this patch targets {step} in layer {l}", nameof(patch));
    }

    /// <summary>Backpropagates ∂ℓ/∂X^L of every text of a taped batch down to the word embeddings.</summary>
    /// <param name="outputGradients">per text, ∂ℓ/∂X^L [n, d] (for a classifier on the first token: only row 0 nonzero).</param>
    /// <param name="attentionProbs">also return ∂ℓ/∂A of every layer at or above <paramref name="lowestLayer"/>.</param>
    /// <param name="lowestLayer">stop after the attention of this layer (0: go down to the word embeddings; above 0 the
    /// result has no embedding gradients).</param>
    /// <exception cref="ArgumentException">the gradients do not match the batch's shapes, or the layer does not exist.</exception>
    public static InputGradients[] Backward(TapedForward forward, IReadOnlyList<Tensor> outputGradients, bool attentionProbs = false,
        int lowestLayer = 0)
    {
        var encoder = forward.Encoder;
        using var call = encoder.BeginCall();
        var tape = forward.Tape;
        var c = encoder.Config;
        var batch = tape.Batch;
        int T = batch.TotalTokens, d = c.HiddenSize, L = c.NumHiddenLayers, E = c.EmbeddingSize;
        if (outputGradients.Count != batch.Count)
            throw new ArgumentException($"{outputGradients.Count} output gradients for {batch.Count} texts", nameof(outputGradients));
        if ((uint)lowestLayer >= (uint)L)
            throw new ArgumentException($"layer {lowestLayer} does not exist; the model has layers 0..{L - 1}", nameof(lowestLayer));
        if (lowestLayer < tape.FirstLayer)
            throw new ArgumentException($"the forward started at layer {tape.FirstLayer}; the backward cannot go below it (asked: {lowestLayer})", nameof(lowestLayer));

        // dX^L, packed                                                                        [T, d]
        var dY = new float[T * d];
        for (int s = 0; s < batch.Count; s++)
        {
            var g = outputGradients[s];
            if (g.Rank != 2 || g.Shape[0] != batch.Lengths[s] || g.Shape[1] != d)
                throw new ArgumentException($"text {s}: output gradient [{string.Join(", ", g.Shape)}], expected [{batch.Lengths[s]}, {d}]", nameof(outputGradients));
            g.Data.CopyTo(dY, batch.Starts[s] * d);
        }

        var ws = new BackwardWorkspace(T, d, c.IntermediateSize);
        var dX = new float[T * d];
        var probsGradients = new float[]?[L];
        int top = L - 1;
        if (tape.FirstTokenLastLayer is { } firstTokenTape)
        {
            if (lowestLayer == L - 1 && lowestLayer > 0)
                throw new ArgumentException("a forward taped at the first tokens only cannot stop in its last layer", nameof(lowestLayer));
            // dy at the first tokens [B, d]; every other row of dX^L must be zero (the forward did not compute them)
            var dFirst = new float[batch.Count * d];
            for (int s = 0; s < batch.Count; s++)
            {
                var rows = dY.AsSpan(batch.Starts[s] * d, batch.Lengths[s] * d);
                if (rows.Length > d && System.Numerics.Tensors.TensorPrimitives.MaxMagnitude(rows[d..]) is > 0 or float.NaN)
                    throw new ArgumentException($"text {s}: a forward taped at the first tokens only takes output gradients at the first token only (rows 1..{batch.Lengths[s] - 1} must be zero)", nameof(outputGradients));
                rows[..d].CopyTo(dFirst.AsSpan(s * d, d));
            }
            if (attentionProbs) probsGradients[top] = new float[tape.ProbsOffsets[^1]];
            EncoderLayer.BackwardFirstTokens(encoder.ForwardWeights(top), encoder.BackwardWeights(top), c, firstTokenTape, dFirst, dX, batch, ws,
                probsGradients[top], tape.ProbsOffsets);
            (dY, dX) = (dX, dY);
            top--;
        }
        for (int l = top; l >= lowestLayer; l--)
        {
            // dXˡ⁻¹ = Layerₗᵀ(dXˡ)
            if (attentionProbs) probsGradients[l] = new float[tape.ProbsOffsets[^1]];
            EncoderLayer.Backward(encoder.ForwardWeights(l), encoder.BackwardWeights(l), c, tape.Layers[l], dY, dX, batch, ws,
                probsGradients[l], attentionOnly: l == lowestLayer && lowestLayer > 0);
            (dY, dX) = (dX, dY);
        }

        // dY now holds ∂ℓ/∂e⁰ (unless stopped early); e⁰ = Embeddings(x)  →  ∂ℓ/∂x
        float[]? dWords = lowestLayer == 0 && tape.Embeddings is { } embeddings ? EncoderEmbeddings.Backward(encoder.Weights.Embeddings, c, embeddings, dY, T) : null;

        var results = new InputGradients[batch.Count];
        for (int s = 0; s < batch.Count; s++)
        {
            int n = batch.Lengths[s];
            var probs = new Tensor?[L];
            for (int l = 0; l < L; l++)
                if (probsGradients[l] is { } pg)
                    probs[l] = new Tensor(pg.AsSpan(tape.ProbsOffsets[s], tape.ProbsOffsets[s + 1] - tape.ProbsOffsets[s]).ToArray(), c.NumAttentionHeads, n, n);
            results[s] = new InputGradients(
                dWords is null ? null : new Tensor(batch.Rows(dWords, s, E).ToArray(), n, E),
                lowestLayer > 0 ? null : new Tensor(batch.Rows(dY, s, d).ToArray(), n, d),
                probs);
        }
        return results;
    }
}
