using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;

namespace MixLens.Analysis.Methods;

/// <summary>
/// GlobEnc, N_Enc variant: Modarressi, Fayyaz, Yaghoobzadeh &amp; Pilehvar, "GlobEnc: Quantifying Global Token
/// Attribution by Incorporating the Whole Encoder Layer in Transformers", NAACL 2022, arXiv:2205.03286: the method
/// section (the norm-based decomposition of Kobayashi et al. extended to the whole encoder layer — both residuals and
/// both LayerNorms, the FFN left out: N_Enc) and the global aggregation by rollout. Section and equation numbers are
/// not cited: not verified against the arXiv text. For layer l, output token i and input token j:
/// <code>
/// z_{i←j} = Σ_h α^h_{i,j} f^h(x_j) + 1[i = j] x_i,       f^h(x) = (x W_V^h + b_V^h) W_O^h
/// g_1(v)  = (v − mean(v)) ⊙ γ_1 / σ_1,i,   σ_1,i = √(var(attention.residual_i) + ε)   (LayerNorm 1 without β_1)
/// g_2(v)  = (v − mean(v)) ⊙ γ_2 / σ_2,i,   σ_2,i = √(var(ffn.residual_i) + ε)         (LayerNorm 2 without β_2)
/// N_l[i, j] = ‖ g_2(g_1(z_{i←j})) ‖₂
/// </code>
/// Not normalised. Rollout (<c>analysis.globenc_rollout</c>): the plain product R_1 = N_1, R_l = N_l R_{l-1}, no
/// normalisation (<see cref="Rollout.Compute"/> with <c>addIdentity: false</c>).
/// Computation: g_2 ∘ g_1 = M / (σ_1,i σ_2,i) with the token-independent linear map M(v) = γ_2 ⊙ P(γ_1 ⊙ P(v)), P the
/// centring. M is applied once to every f^h(x_j) (<see cref="AttentionNorm.TransformedValues"/>) and x_j, and the
/// norm goes through per-token Gram matrices in float64 (<see cref="AttentionNorm.ResidualNorms"/>, shared with
/// <see cref="AttentionNormResLn"/>):
/// N[i, j]² σ²_1,i σ²_2,i = α_{i,j}ᵀ G_j α_{i,j} + 1[i = j] (2 α_{i,i}·b_i + ‖M x_i‖²),
/// G_j[h, h'] = ⟨M f^h(x_j), M f^{h'}(x_j)⟩, b_i[h] = ⟨M f^h(x_i), M x_i⟩ — n²·H² work instead of n²·H·d.
/// Deviations: none from <c>analysis.globenc</c> (the fixtures follow the authors' code: the FFN skipped, its
/// residual through LayerNorm 2 kept; b_O, β_1 and β_2 left out; no row normalisation before the rollout).
/// </summary>
public static class GlobEnc
{
    /// <summary>The sub-steps <see cref="Compute"/> reads from a trace (embeddings and every layer's output give x_j).</summary>
    public static TraceRequest Requirements { get; } = TraceRequest.Steps(true,
        LayerStep.Value, LayerStep.Probs, LayerStep.AttentionResidual, LayerStep.FfnResidual, LayerStep.Output);

    /// <summary>GlobEnc (N_Enc) matrices N_l [L, n, n] of one text (row i = output token, column j = input token).</summary>
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
        var residual1 = trace[layer, LayerStep.AttentionResidual];                      //    [n, d]
        var residual2 = trace[layer, LayerStep.FfnResidual];                            //    [n, d]
        int n = residual1.Shape[0];
        var gamma1 = w.AttentionLayerNormWeight;
        var gamma2 = w.OutputLayerNormWeight;

        // 1 / (σ_1,i σ_2,i)
        var scale = new double[n];
        double eps = config.LayerNormEps;
        for (int i = 0; i < n; i++)
            scale[i] = 1 / Math.Sqrt((Alti.Variance(residual1.Row(i)) + eps) * (Alti.Variance(residual2.Row(i)) + eps));

        AttentionNorm.ResidualNorms(config, w, trace, layer, v => ApplyM(v, gamma1.Span, gamma2.Span), scale, destination);
    }

    /// <summary>v ← M(v) = γ_2 ⊙ P(γ_1 ⊙ P(v)), P the centring (means in float64).</summary>
    static void ApplyM(Span<float> v, ReadOnlySpan<float> gamma1, ReadOnlySpan<float> gamma2)
    {
        Alti.CenterAndScale(v, gamma1);
        Alti.CenterAndScale(v, gamma2);
    }
}
