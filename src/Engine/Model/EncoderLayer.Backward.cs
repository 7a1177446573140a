using MixLens.Engine.Gradients;
using MixLens.Kernels;

namespace MixLens.Engine.Model;

internal static partial class EncoderLayer
{
    /// <summary>
    /// The backward of <see cref="Forward"/>: from dY = ∂ℓ/∂Y [T, d] to dX = ∂ℓ/∂X [T, d], step by step in reverse
    /// (inputs and activations only, no weight gradients). Each line mirrors the forward line it differentiates:
    /// <code>
    ///   Y = LayerNorm₂(residual₂)               dresidual₂ = LayerNorm₂ᵀ(dY)
    ///   residual₂ = act(U) W_outᵀ + b_out + X₁  dX₁ = dresidual₂,   dintermediate = dresidual₂ W_out      [T, f]
    ///   U = X₁ W_inᵀ + b_in                     dU = dintermediate ⊙ act′(U),   dX₁ += dU W_in
    ///   X₁ = LayerNorm₁(residual₁)              dresidual₁ = LayerNorm₁ᵀ(dX₁)
    ///   residual₁ = context W_Oᵀ + b_O + X      dX = dresidual₁,   dcontext = dresidual₁ W_O
    ///   context = attention(Q, K, V)            dQ, dK, dV (and dA per head)  (SelfAttention.Backward)
    ///   Q, K, V = X W_{Q,K,V}ᵀ + b              dX += dQ W_Q + dK W_K + dV W_V
    /// </code>
    /// </summary>
    /// <param name="dY">∂ℓ/∂Y [T, d]; read only.</param>
    /// <param name="dX">∂ℓ/∂X [T, d], overwritten; distinct from dY.</param>
    /// <param name="probsGradient">null, or receives ∂ℓ/∂A of every head (layout of <see cref="LayerTape.Probs"/>).</param>
    /// <param name="attentionOnly">stop once dA is known (dX is then not written): attention attribution needs
    /// nothing below the layer whose probabilities it scales.</param>
    public static void Backward(PackedLayerWeights w, BackwardLayerWeights back, EncoderConfig c, LayerTape tape, float[] dY,
        float[] dX, PackedBatch batch, BackwardWorkspace ws, float[]? probsGradient, bool attentionOnly = false)
    {
        int T = batch.TotalTokens, d = c.HiddenSize;

        // Y  →  dresidual₂  →  dU  →  dX₁  →  dresidual₁ (ws.DResidual)  →  dcontext (ws.DContext)   [T, ·]
        BackwardAboveAttention(w, back, c, tape.FfnResidual, tape.OutputMean, tape.OutputRstd, tape.PreActivation,
            tape.AttentionResidual, tape.AttentionMean, tape.AttentionRstd, dY, T, ws);

        // context = concat_h softmax(Q_h K_hᵀ / √d_head) V_h  →  dQ, dK, dV                 [T, d]
        SelfAttention.Backward(tape, ws.DContext, ws.DQuery, ws.DKey, ws.DValue, batch, c.NumAttentionHeads, c.HeadDim, probsGradient);
        if (attentionOnly) return;

        // residual₁ = … + X and Q, K, V = X W_{Q,K,V}ᵀ + b  →  dX = dresidual₁ + dQ W_Q + dK W_K + dV W_V
        Linear(ws.DQuery, back.Query, dX, T, new GemmEpilogue { Residual = ws.DResidual.AsSpan(0, T * d), ResidualStride = d });
        Linear(ws.DKey, back.Key, dX, T, new GemmEpilogue { Residual = dX.AsSpan(0, T * d), ResidualStride = d });
        Linear(ws.DValue, back.Value, dX, T, new GemmEpilogue { Residual = dX.AsSpan(0, T * d), ResidualStride = d });
    }

    /// <summary>
    /// The steps of the backward above the attention, on <paramref name="rows"/> rows (every token in
    /// <see cref="Backward"/>, the first tokens in <see cref="BackwardFirstTokens"/>), from the taped values of those rows:
    /// <code>
    ///   Y = LayerNorm₂(residual₂)               dresidual₂ = LayerNorm₂ᵀ(dY)
    ///   residual₂ = act(U) W_outᵀ + b_out + X₁  dintermediate = dresidual₂ W_out                        [rows, f]
    ///   U = X₁ W_inᵀ + b_in                     dU = dintermediate ⊙ act′(U),   dX₁ = dresidual₂ + dU W_in
    ///   X₁ = LayerNorm₁(residual₁)              dresidual₁ = LayerNorm₁ᵀ(dX₁)        → ws.DResidual     [rows, d]
    ///   residual₁ = context W_Oᵀ + b_O + X      dcontext = dresidual₁ W_O            → ws.DContext      [rows, d]
    /// </code>
    /// </summary>
    static void BackwardAboveAttention(PackedLayerWeights w, BackwardLayerWeights back, EncoderConfig c,
        float[] ffnResidual, float[] outputMean, float[] outputRstd, float[] preActivation,
        float[] attentionResidual, float[] attentionMean, float[] attentionRstd, float[] dY, int rows, BackwardWorkspace ws)
    {
        int d = c.HiddenSize, f = c.IntermediateSize;
        var b = w.Source;
        LayerNorm.Backward(ffnResidual.AsSpan(0, rows * d), outputMean.AsSpan(0, rows), outputRstd.AsSpan(0, rows),
            b.OutputLayerNormWeight.Span, dY.AsSpan(0, rows * d), ws.DResidual.AsSpan(0, rows * d), rows, d);
        Linear(ws.DResidual, back.Output, ws.DIntermediate, rows, default);
        Activations.MultiplyByDerivative(ToGemm(c.HiddenAct), preActivation.AsSpan(0, rows * f), ws.DIntermediate.AsSpan(0, rows * f));
        Linear(ws.DIntermediate, back.Intermediate, ws.DAttentionNorm, rows,
            new GemmEpilogue { Residual = ws.DResidual.AsSpan(0, rows * d), ResidualStride = d });
        LayerNorm.Backward(attentionResidual.AsSpan(0, rows * d), attentionMean.AsSpan(0, rows), attentionRstd.AsSpan(0, rows),
            b.AttentionLayerNormWeight.Span, ws.DAttentionNorm.AsSpan(0, rows * d), ws.DResidual.AsSpan(0, rows * d), rows, d);
        Linear(ws.DResidual, back.AttentionOutput, ws.DContext, rows, default);
    }
}

/// <summary>The gradient buffers of one backward pass, packed rows [T, ·], reused from layer to layer.</summary>
internal sealed class BackwardWorkspace(int tokens, int d, int f)
{
    public readonly float[] DResidual = new float[tokens * d], DIntermediate = new float[tokens * f],
        DAttentionNorm = new float[tokens * d], DContext = new float[tokens * d],
        DQuery = new float[tokens * d], DKey = new float[tokens * d], DValue = new float[tokens * d];
}
