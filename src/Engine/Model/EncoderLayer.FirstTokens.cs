using MixLens.Kernels;

namespace MixLens.Engine.Model;

internal static partial class EncoderLayer
{
    /// <summary>
    /// <see cref="Forward"/> computed for the first token of each text only: y [B, d] (B texts), row s = row 0 of text
    /// s's layer output. Keys and values still cover every token (row 0 attends to all of them); the query, the
    /// attention row, W_O, both LayerNorms and the FFN run on B rows instead of T. What a head that reads the first
    /// token ([CLS], &lt;s&gt;) needs from the last layer: about 1/6 of that layer's work at n ≈ 25. The same kernels
    /// on the same rows, so row s equals row 0 of text s in <see cref="Forward"/> bit for bit.
    /// <code>
    ///   K = X W_Kᵀ + b_K,  V = X W_Vᵀ + b_V                            [T, d]
    ///   x₀ = X[first rows],  q₀ = x₀ W_Qᵀ + b_Q                        [B, d]
    ///   a₀,h = softmax(q₀,h K_hᵀ / √d_head + mask)                      [1, n] per text and head
    ///   context₀ = concat_h a₀,h V_h                                    [B, d]
    ///   y = LayerNorm₂(x₁ + act(x₁ W_inᵀ + b_in) W_outᵀ + b_out),  x₁ = LayerNorm₁(context₀ W_Oᵀ + b_O + x₀)
    /// </code>
    /// </summary>
    /// <param name="x">the layer input [T, d].</param>
    /// <param name="y">receives [B, d]; distinct from <paramref name="x"/>.</param>
    /// <param name="tape">null, or where to keep what <see cref="BackwardFirstTokens"/> needs (same values, bit for bit).</param>
    public static void ForwardFirstTokens(PackedLayerWeights w, EncoderConfig c, float[] x, float[] y, PackedBatch batch, ForwardWorkspace ws,
        Gradients.FirstTokenLayerTape? tape = null)
    {
        int T = batch.TotalTokens, B = batch.Count, d = c.HiddenSize, f = c.IntermediateSize, H = c.NumAttentionHeads, dh = c.HeadDim;
        var b = w.Source;
        // buffers (first B rows of the workspace's): x₀ in FfnResidual until residual₁ is formed
        float[] first = ws.FfnResidual, query = tape?.Query ?? ws.Query, context = ws.Context;
        float[] key = tape?.Key ?? ws.Key, value = tape?.Value ?? ws.Value;
        float[] residual1 = tape?.AttentionResidual ?? ws.AttentionResidual;

        // K = X W_Kᵀ + b_K,  V = X W_Vᵀ + b_V                                             [T, d]
        Linear(x, w.Key, key, T, new GemmEpilogue { Bias = b.KeyBias.Span });
        Linear(x, w.Value, value, T, new GemmEpilogue { Bias = b.ValueBias.Span });
        // x₀ = the first row of each text;  q₀ = x₀ W_Qᵀ + b_Q                              [B, d]
        for (int s = 0; s < B; s++) x.AsSpan(batch.Starts[s] * d, d).CopyTo(first.AsSpan(s * d, d));
        Linear(first, w.Query, query, B, new GemmEpilogue { Bias = b.QueryBias.Span });

        // context₀ = concat_h softmax(q₀,h K_hᵀ / √d_head + mask) V_h                      [B, d]
        float scale = 1f / MathF.Sqrt(dh);
        int longest = batch.MaxLength;
        var scores = new float[longest];
        var keys = new float[Gemm.PackedSize(longest, dh)];
        var values = new float[Gemm.PackedSize(dh, longest)];
        for (int s = 0; s < B; s++)
        {
            int n = batch.Lengths[s];
            for (int h = 0; h < H; h++)
            {
                int offset = batch.Starts[s] * d + h * dh;
                // s₀,h = q₀,h K_hᵀ / √d_head                    [1, d_head] x [d_head, n] -> [1, n]
                Gemm.PackTransposed(key.AsSpan(offset), d, n, dh, keys);
                Gemm.MatMulPacked(query.AsSpan(s * d + h * dh), d, keys, n, dh, scores, n, 1, new GemmEpilogue { Alpha = scale }, parallel: false);
                if (batch.KeyMasks[s] is { } keyMask)
                    for (int j = 0; j < n; j++) if (!keyMask[j]) scores[j] = float.NegativeInfinity;
                Softmax.Rows(scores.AsSpan(0, n), 1, n);
                tape?.SaveProbs(s, h, scores.AsSpan(0, n));
                // context₀,h = a₀,h V_h                          [1, n] x [n, d_head] -> [1, d_head]
                Gemm.Pack(value.AsSpan(offset), d, n, dh, values);
                Gemm.MatMulPacked(scores, n, values, dh, n, context.AsSpan(s * d + h * dh), d, 1, parallel: false);
            }
        }

        // residual₁ = context₀ W_Oᵀ + b_O + x₀;  x₁ = LayerNorm₁(residual₁)                  [B, d]
        Linear(context, w.AttentionOutput, residual1, B,
            new GemmEpilogue { Bias = b.AttentionOutputBias.Span, Residual = first.AsSpan(0, B * d), ResidualStride = d });
        LayerNorm.Forward(residual1.AsSpan(0, B * d), b.AttentionLayerNormWeight.Span, b.AttentionLayerNormBias.Span,
            c.LayerNormEps, ws.AttentionNorm.AsSpan(0, B * d), B, d, tape is null ? default : tape.AttentionMean,
            tape is null ? default : tape.AttentionRstd, parallel: true);
        // residual₂ = act(x₁ W_inᵀ + b_in) W_outᵀ + b_out + x₁;  y = LayerNorm₂(residual₂)   [B, d]
        Intermediate(w, c, ws, tape?.PreActivation, B);
        float[] residual2 = tape?.FfnResidual ?? ws.FfnResidual;
        Linear(ws.Intermediate, w.Output, residual2, B,
            new GemmEpilogue { Bias = b.OutputBias.Span, Residual = ws.AttentionNorm.AsSpan(0, B * d), ResidualStride = d });
        LayerNorm.Forward(residual2.AsSpan(0, B * d), b.OutputLayerNormWeight.Span, b.OutputLayerNormBias.Span, c.LayerNormEps,
            y.AsSpan(0, B * d), B, d, tape is null ? default : tape.OutputMean, tape is null ? default : tape.OutputRstd, parallel: true);
    }
}
