using MixLens.Engine.Model;

namespace MixLens.Engine.Gradients;

/// <summary>
/// What the backward of one encoder layer needs from its forward, packed rows [T, ·] of the batch (llm.c keeps the
/// same activations for its backward). Everything else is recomputed or not needed: no weight gradients are taken, so
/// the layer input X and the LayerNorm outputs are never read.
/// <code>
///   Query, Key, Value                     [T, d]       after their biases
///   Probs                                 per text s, [H, n_s, n_s] at ProbsOffsets[s] (after any patch)
///   AttentionResidual, AttentionMean/Rstd [T, d], [T]  residual₁ = attention output + X, and LayerNorm₁'s μ, ρ
///   PreActivation                         [T, f]       U = X₁ W_inᵀ + b_in, before the activation
///   FfnResidual, OutputMean/Rstd          [T, d], [T]  residual₂ = FFN output + X₁, and LayerNorm₂'s μ, ρ
/// </code>
/// </summary>
internal sealed class LayerTape
{
    public readonly float[] Query, Key, Value, Probs, AttentionResidual, AttentionMean, AttentionRstd, PreActivation,
        FfnResidual, OutputMean, OutputRstd;
    readonly int[] _probsOffsets;
    readonly PackedBatch _batch;

    /// <summary>True when a patch replaced this layer's attention probabilities: they are then an input of the patched
    /// forward, and the backward sends no gradient through the softmax to the scores (dQ = dK = 0 from this layer).</summary>
    public bool ProbsPatched { get; init; }

    public LayerTape(PackedBatch batch, int[] probsOffsets, int d, int f)
    {
        int T = batch.TotalTokens;
        _batch = batch;
        _probsOffsets = probsOffsets;
        Query = new float[T * d]; Key = new float[T * d]; Value = new float[T * d];
        Probs = new float[probsOffsets[^1]];
        AttentionResidual = new float[T * d]; AttentionMean = new float[T]; AttentionRstd = new float[T];
        PreActivation = new float[T * f];
        FfnResidual = new float[T * d]; OutputMean = new float[T]; OutputRstd = new float[T];
    }

    /// <summary>Head <paramref name="h"/> of text <paramref name="s"/>: its attention probabilities [n, n].</summary>
    public Span<float> ProbsOf(int s, int h)
    {
        int n = _batch.Lengths[s];
        return Probs.AsSpan(_probsOffsets[s] + h * n * n, n * n);
    }

    /// <summary>Where text <paramref name="s"/>'s [H, n, n] block starts in <see cref="Probs"/>.</summary>
    public int ProbsStart(int s) => _probsOffsets[s];

    /// <summary>Keeps one head's probabilities (called from the attention loop, one (s, h) per thread).</summary>
    public void SaveProbs(int s, int h, ReadOnlySpan<float> probs) => probs.CopyTo(ProbsOf(s, h));
}

/// <summary>
/// The tape of a last layer computed at the first token of each text only (<see cref="EncoderLayer.ForwardFirstTokens"/>):
/// keys and values of every token, everything else at the B first tokens.
/// <code>
///   Key, Value                            [T, d]       after their biases
///   Query                                 [B, d]       q₀ of each text
///   Probs                                 [T·H]        text s, head h: a₀,h [n_s] at (Starts[s]·H + h·n_s)
///   AttentionResidual, AttentionMean/Rstd [B, d], [B]
///   PreActivation                         [B, f]
///   FfnResidual, OutputMean/Rstd          [B, d], [B]
/// </code>
/// </summary>
internal sealed class FirstTokenLayerTape
{
    public readonly float[] Key, Value, Query, Probs, AttentionResidual, AttentionMean, AttentionRstd, PreActivation,
        FfnResidual, OutputMean, OutputRstd;
    readonly PackedBatch _batch;
    readonly int _heads;

    public FirstTokenLayerTape(PackedBatch batch, int heads, int d, int f)
    {
        int T = batch.TotalTokens, B = batch.Count;
        _batch = batch;
        _heads = heads;
        Key = new float[T * d]; Value = new float[T * d]; Query = new float[B * d];
        Probs = new float[T * heads];
        AttentionResidual = new float[B * d]; AttentionMean = new float[B]; AttentionRstd = new float[B];
        PreActivation = new float[B * f];
        FfnResidual = new float[B * d]; OutputMean = new float[B]; OutputRstd = new float[B];
    }

    /// <summary>Text <paramref name="s"/>, head <paramref name="h"/>: the first token's attention probabilities a₀,h [n].</summary>
    public Span<float> ProbsOf(int s, int h)
    {
        int n = _batch.Lengths[s];
        return Probs.AsSpan(_batch.Starts[s] * _heads + h * n, n);
    }

    /// <summary>Keeps a₀,h (called from the attention loop).</summary>
    public void SaveProbs(int s, int h, ReadOnlySpan<float> probs) => probs.CopyTo(ProbsOf(s, h));
}

/// <summary>What the embedding block's backward needs: the sum E_word + E_type + E_pos [T, E] before the
/// embedding LayerNorm, and that LayerNorm's μ, ρ [T].</summary>
internal sealed class EmbeddingTape(int tokens, int width)
{
    public readonly float[] Sum = new float[tokens * width];
    public readonly float[] Mean = new float[tokens], Rstd = new float[tokens];
}

/// <summary>A taped forward of a packed batch: the tapes of the embeddings and of every layer, and the last hidden
/// states [T, d].</summary>
internal sealed class EncoderTape
{
    public required PackedBatch Batch { get; init; }
    public required IReadOnlyList<EncoderInput> Inputs { get; init; }
    /// <summary>Per text, the word-embedding rows that replaced E_word[id] (null: the table's rows).</summary>
    public required IReadOnlyList<float[]?>? WordRows { get; init; }
    /// <summary>The embedding block's tape; null when the forward started above layer 0.</summary>
    public required EmbeddingTape? Embeddings { get; init; }
    /// <summary>Per layer; null below <see cref="FirstLayer"/>, and for the last layer when it ran at the first tokens only.</summary>
    public required LayerTape[] Layers { get; init; }
    /// <summary>The last layer's tape when it ran at the first token of each text only (then <see cref="LastHidden"/>
    /// holds only those rows; the others are NaN); else null.</summary>
    public FirstTokenLayerTape? FirstTokenLastLayer { get; init; }
    /// <summary>The first layer the forward ran (0: from the embeddings).</summary>
    public required int FirstLayer { get; init; }
    /// <summary>X^L, the last hidden states [T, d].</summary>
    public required float[] LastHidden { get; init; }
    /// <summary>Per text, where its [H, n, n] probabilities start in <see cref="LayerTape.Probs"/>; one more entry at
    /// the end holds the total.</summary>
    public required int[] ProbsOffsets { get; init; }

    public static int[] ProbsOffsetsOf(PackedBatch batch, int heads)
    {
        var offsets = new int[batch.Count + 1];
        for (int s = 0; s < batch.Count; s++) offsets[s + 1] = offsets[s] + heads * batch.Lengths[s] * batch.Lengths[s];
        return offsets;
    }
}
