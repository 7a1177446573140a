using System.Numerics.Tensors;
using MixLens.Engine.Gradients;
using MixLens.Kernels;

namespace MixLens.Engine.Model;

internal static partial class EncoderLayer
{
    /// <summary>
    /// The forward-mode derivative of <see cref="Forward"/>: B tangents Ẋ of one n-token text, rows [B·n, d]
    /// (row b·n + i = tangent b, token i), pushed through the layer at the taped point. Biases drop out; each line
    /// mirrors the forward line it differentiates:
    /// <code>
    ///   Q, K, V = X W_{Q,K,V}ᵀ + b               Q̇, K̇, V̇ = Ẋ W_{Q,K,V}ᵀ
    ///   context = attention(Q, K, V)             ċontext  (SelfAttention.Tangent)
    ///   residual₁ = context W_Oᵀ + b_O + X       ṙesidual₁ = ċontext W_Oᵀ + Ẋ
    ///   X₁ = LayerNorm₁(residual₁)               Ẋ₁ = γ₁ ⊙ ρ (ṙ − mean ṙ − x̂ mean(ṙ ⊙ x̂))
    ///   U = X₁ W_inᵀ + b_in                      U̇ = Ẋ₁ W_inᵀ,   İ = act′(U) ⊙ U̇
    ///   residual₂ = act(U) W_outᵀ + b_out + X₁   ṙesidual₂ = İ W_outᵀ + Ẋ₁
    ///   Y = LayerNorm₂(residual₂)                Ẏ = LayerNorm₂ tangent
    /// </code>
    /// </summary>
    /// <param name="dX">Ẋ [B·n, d], read only.</param>
    /// <param name="dY">Ẏ [B·n, d], overwritten; distinct from dX.</param>
    public static void Tangent(PackedLayerWeights w, EncoderConfig c, LayerTape tape, int n, int tangents, float[] dX, float[] dY,
        TangentWorkspace ws)
    {
        int rows = tangents * n, d = c.HiddenSize, f = c.IntermediateSize;
        var b = w.Source;

        // Q̇, K̇, V̇ = Ẋ W_{Q,K,V}ᵀ                                                        [B·n, d]
        Linear(dX, w.Query, ws.DQuery, rows, default);
        Linear(dX, w.Key, ws.DKey, rows, default);
        Linear(dX, w.Value, ws.DValue, rows, default);
        SelfAttention.Tangent(tape, n, tangents, ws.DQuery, ws.DKey, ws.DValue, ws.DContext, c.NumAttentionHeads, c.HeadDim);

        // ṙesidual₁ = ċontext W_Oᵀ + Ẋ;   Ẋ₁ = LayerNorm₁ tangent
        Linear(ws.DContext, w.AttentionOutput, ws.DResidual, rows, new GemmEpilogue { Residual = dX.AsSpan(0, rows * d), ResidualStride = d });
        LayerNorm.Tangent(tape.AttentionResidual.AsSpan(0, n * d), tape.AttentionMean.AsSpan(0, n), tape.AttentionRstd.AsSpan(0, n),
            b.AttentionLayerNormWeight.Span, ws.DResidual.AsSpan(0, rows * d), ws.DAttentionNorm.AsSpan(0, rows * d), rows, d, n);

        // İ = act′(U) ⊙ (Ẋ₁ W_inᵀ)                                                      [B·n, f]
        Linear(ws.DAttentionNorm, w.Intermediate, ws.DIntermediate, rows, default);
        var slope = ws.Slope.AsSpan(0, n * f);
        Activations.Derivative(ToGemm(c.HiddenAct), tape.PreActivation.AsSpan(0, n * f), slope);
        for (int t = 0; t < tangents; t++)
        {
            var block = ws.DIntermediate.AsSpan(t * n * f, n * f);
            TensorPrimitives.Multiply(block, slope, block);
        }

        // ṙesidual₂ = İ W_outᵀ + Ẋ₁;   Ẏ = LayerNorm₂ tangent
        Linear(ws.DIntermediate, w.Output, ws.DResidual, rows,
            new GemmEpilogue { Residual = ws.DAttentionNorm.AsSpan(0, rows * d), ResidualStride = d });
        LayerNorm.Tangent(tape.FfnResidual.AsSpan(0, n * d), tape.OutputMean.AsSpan(0, n), tape.OutputRstd.AsSpan(0, n),
            b.OutputLayerNormWeight.Span, ws.DResidual.AsSpan(0, rows * d), dY.AsSpan(0, rows * d), rows, d, n);
    }
}

/// <summary>The tangent buffers of <see cref="EncoderLayer.Tangent"/>, rows [B·n, ·], reused from layer to layer.</summary>
internal sealed class TangentWorkspace(int rows, int n, int d, int f)
{
    public readonly float[] DQuery = new float[rows * d], DKey = new float[rows * d], DValue = new float[rows * d],
        DContext = new float[rows * d], DResidual = new float[rows * d], DAttentionNorm = new float[rows * d],
        DIntermediate = new float[rows * f], Slope = new float[n * f];
}
