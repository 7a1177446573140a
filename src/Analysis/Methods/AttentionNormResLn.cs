using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Attention norm with residual and LayerNorm (N-ResLN): Kobayashi, Kuribayashi, Yokoi &amp; Inui, "Incorporating
/// Residual and Normalization Layers into Analysis of Masked Language Models", EMNLP 2021, arXiv:2109.07152 (v1): the
/// norm-based analysis of Kobayashi et al. 2020 (<see cref="AttentionNorm"/>) extended from the multi-head attention to
/// the whole attention block — heads, residual connection and LayerNorm 1 — decomposed per input token. Section and
/// equation numbers are not cited: not verified against the arXiv text. For layer l, output token i and input token j
/// (n tokens, d = d_model, H heads):
/// <code>
/// z_{i←j} = Σ_h α^h_{i,j} f^h(x_j) + 1[i = j] x_i,      f^h(x) = (x W_V^h + b_V^h) W_O^h   (no b_O)
/// g_1(v)  = γ_1 ⊙ (v − mean(v)) / σ_i,   σ_i = √(var(attention.residual_i) + ε)     (LayerNorm 1 without β_1)
/// N_l[i, j] = ‖ g_1(z_{i←j}) ‖₂
/// </code>
/// x = the layer's input [n, d] (<c>embeddings.output</c> or the previous layer's output), α^h = attention probs
/// [H, n, n]; the result is [L, n, n], row i = output token, column j = input token. Not normalised. Σ_j g_1(z_{i←j})
/// + g_1(b_O) + β_1 is the LayerNorm-1 output of token i, so N-ResLN is <see cref="AttentionNorm"/> plus the residual's
/// share, seen through LayerNorm 1; it is also <see cref="GlobEnc"/> stopped before LayerNorm 2, and uses no
/// classification head.
/// Computation: g_1 = M / σ_i with the token-independent linear map M(v) = γ_1 ⊙ (v − mean(v)), so the norms go through
/// <see cref="AttentionNorm.ResidualNorms"/> (per-token Gram matrices of M f^h(x_j), in float64, as GlobEnc does).
/// Deviations: none from <c>analysis.attention_norm_res_ln</c> (b_O and β_1 left out of every z_{i←j}, as in the
/// paper, which keeps them as separate terms).
/// </summary>
public static class AttentionNormResLn
{
    /// <summary>The sub-steps <see cref="Compute"/> reads from a trace (embeddings and every layer's output give x_j).</summary>
    public static TraceRequest Requirements { get; } = TraceRequest.Steps(true,
        LayerStep.Value, LayerStep.Probs, LayerStep.AttentionResidual, LayerStep.Output);

    /// <summary>N-ResLN matrices N_l [L, n, n] of one text (row i = output token, column j = input token).</summary>
    /// <param name="encoder">the encoder.</param>
    /// <param name="input">the text.</param>
    /// <param name="trace">a trace of this text holding <see cref="Requirements"/> (null: run the forward pass here).</param>
    public static Tensor Compute(BertEncoder encoder, EncoderInput input, Trace? trace = null)
    {
        trace ??= encoder.Forward(input, Requirements).Trace;
        return LayerMatrices.Stack(encoder, trace, input.Length, LayerMatrix);
    }

    /// <summary>N_l [n, n] of one layer from its trace, written to <paramref name="destination"/>.</summary>
    public static void LayerMatrix(EncoderConfig config, LayerWeights w, Trace trace, int layer, Span<float> destination)
    {
        var residual = trace[layer, LayerStep.AttentionResidual];                       //    [n, d]
        int n = residual.Shape[0];
        var gamma1 = w.AttentionLayerNormWeight;

        // 1 / σ_i
        var inverseSigma = new double[n];
        for (int i = 0; i < n; i++) inverseSigma[i] = 1 / Math.Sqrt(Alti.Variance(residual.Row(i)) + config.LayerNormEps);

        // N[i, j] = ‖M z_{i←j}‖₂ / σ_i,  M(v) = γ_1 ⊙ (v − mean(v))
        AttentionNorm.ResidualNorms(config, w, trace, layer, v => Alti.CenterAndScale(v, gamma1.Span), inverseSigma, destination);
    }
}
