using MixLens.Engine.Gradients;
using MixLens.Kernels;

namespace MixLens.Engine.Model;

internal static partial class EncoderLayer
{
    /// <summary>
    /// The backward of <see cref="ForwardFirstTokens"/>: from dY₀ = ∂ℓ/∂y [B, d] (the first token of each text; a
    /// sequence classifier's gradient is zero at every other token) to dX = ∂ℓ/∂X [T, d]. The same steps as
    /// <see cref="Backward"/>, on B rows instead of T, except where the first token reads every token: its attention
    /// row. With a₀,h the first token's probabilities and dcontext₀,h its context gradient,
    /// <code>
    ///   dA₀,h = dcontext₀,h V_hᵀ                          [1, n]
    ///   dV_h[j] = a₀,h[j] · dcontext₀,h                   [n, d_head]   (an outer product: Aᵀ has one nonzero column)
    ///   dS₀,h = a₀,h ⊙ (dA₀,h − Σ_j a₀,h[j] dA₀,h[j]) / √d_head
    ///   dq₀,h = dS₀,h K_h,   dK_h[j] = dS₀,h[j] · q₀,h
    ///   dX = dK W_K + dV W_V  (every row),   dX[first rows] += dresidual₁ + dQ₀ W_Q
    /// </code>
    /// About 1/6 of <see cref="Backward"/>'s work at n ≈ 25, and a smaller share still at larger n (only dK W_K and
    /// dV W_V cover every token).
    /// </summary>
    /// <param name="dY">∂ℓ/∂y at the first tokens [B, d]; read only.</param>
    /// <param name="dX">∂ℓ/∂X [T, d], overwritten.</param>
    /// <param name="probsGradient">null, or receives ∂ℓ/∂A (layout of <see cref="LayerTape.Probs"/>, offsets
    /// <paramref name="probsOffsets"/>; zero on entry): row 0 of each head, every other row zero.</param>
    public static void BackwardFirstTokens(PackedLayerWeights w, BackwardLayerWeights back, EncoderConfig c, FirstTokenLayerTape tape,
        float[] dY, float[] dX, PackedBatch batch, BackwardWorkspace ws, float[]? probsGradient = null, int[]? probsOffsets = null)
    {
        int T = batch.TotalTokens, B = batch.Count, d = c.HiddenSize;

        // y  →  dresidual₂  →  dU  →  dx₁  →  dresidual₁ (ws.DResidual)  →  dcontext₀ (ws.DContext), on B rows   [B, ·]
        BackwardAboveAttention(w, back, c, tape.FfnResidual, tape.OutputMean, tape.OutputRstd, tape.PreActivation,
            tape.AttentionResidual, tape.AttentionMean, tape.AttentionRstd, dY, B, ws);

        // the first token's attention row  →  dq₀ [B, d], dK, dV [T, d]
        SelfAttention.BackwardFirstTokens(tape, ws.DContext, ws.DQuery, ws.DKey, ws.DValue, batch, c.NumAttentionHeads, c.HeadDim,
            probsGradient, probsOffsets);

        // K, V = X W_{K,V}ᵀ + b  →  dX = dK W_K + dV W_V                                    [T, d]
        Linear(ws.DKey, back.Key, dX, T, default);
        Linear(ws.DValue, back.Value, dX, T, new GemmEpilogue { Residual = dX.AsSpan(0, T * d), ResidualStride = d });
        // residual₁ = … + x₀ and q₀ = x₀ W_Qᵀ + b_Q  →  dX[first rows] += dresidual₁ + dq₀ W_Q   [B, d]
        Linear(ws.DQuery, back.Query, ws.DAttentionNorm, B, new GemmEpilogue { Residual = ws.DResidual.AsSpan(0, B * d), ResidualStride = d });
        for (int s = 0; s < B; s++)
        {
            var row = dX.AsSpan(batch.Starts[s] * d, d);
            System.Numerics.Tensors.TensorPrimitives.Add(row, ws.DAttentionNorm.AsSpan(s * d, d), row);
        }
    }
}
