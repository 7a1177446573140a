using System.Numerics;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Kernels;

namespace MixLens.Analysis.Methods;

/// <summary>
/// ALTI (Aggregation of Layer-wise Token-to-token Interactions): Ferrando, Gállego &amp; Costa-jussà, "Measuring the
/// Mixing of Contextual Information in the Transformer", EMNLP 2022, arXiv:2203.04212: the method section (the
/// attention block — heads, residual and LayerNorm 1 — decomposed per input token, T_i(x_j); contributions from the
/// Manhattan distance to the block output) and the layer aggregation (ALTI: the layer-wise matrices multiplied through
/// the layers). Section and equation numbers are not cited: not verified against the arXiv text. For layer l, output
/// token i and input token j:
/// <code>
/// T_i(x_j) = L_i( Σ_h α^h_{i,j} f^h(x_j) + 1[i = j] x_i ),    f^h(x) = (x W_V^h + b_V^h) W_O^h
/// L_i(v)   = (v − mean(v)) ⊙ γ / σ_i,   σ_i = √(var(attention.residual_i) + ε)     (LayerNorm 1 without β)
/// d_{i,j}  = ‖ y_i − T_i(x_j) ‖₁,       y_i = LayerNorm 1 output of token i
/// c_{i,j}  = max(0, ‖y_i‖₁ − d_{i,j}),   C_l[i, j] = c_{i,j} / Σ_k c_{i,k}
/// </code>
/// Rollout (<c>analysis.alti_rollout</c>): the plain product R_1 = C_1, R_l = C_l R_{l-1}
/// (<see cref="Rollout.Compute"/> with <c>addIdentity: false</c>).
/// Computation: A_h[j] = (f^h(x_j) − mean) ⊙ γ is formed once per (h, j) from <see cref="AttentionNorm.TransformedValues"/>;
/// then, one input token j at a time (in parallel over j), all rows i at once as one small GEMM,
/// T[:, j] = (α[:, :, j] / σ)ᵀ · A[:, j] ([n, H] x [H, d]), so memory stays O(n·d) per worker; the L1 distances are
/// accumulated in float64.
/// Deviations: the authors' code (transformer-contributions) adds 1e-6 inside the L1 distance; not reproduced (it
/// changes results by under 3e-5). b_O and β are left out of T_i, as in the paper and the authors' code.
/// </summary>
public static class Alti
{
    /// <summary>The sub-steps <see cref="Compute"/> reads from a trace (embeddings and every layer's output give x_j).</summary>
    public static TraceRequest Requirements { get; } = TraceRequest.Steps(true,
        LayerStep.Value, LayerStep.Probs, LayerStep.AttentionResidual, LayerStep.AttentionLayerNorm, LayerStep.Output);

    /// <summary>ALTI matrices C_l [L, n, n] of one text (row i = output token, column j = input token; rows sum to 1).</summary>
    /// <param name="encoder">the encoder.</param>
    /// <param name="input">the text.</param>
    /// <param name="trace">a trace of this text holding <see cref="Requirements"/> (null: run the forward pass here).</param>
    public static Tensor Compute(BertEncoder encoder, EncoderInput input, Trace? trace = null)
    {
        trace ??= encoder.Forward(input, Requirements).Trace;
        return LayerMatrices.Stack(encoder, trace, input.Length, LayerMatrix);
    }

    /// <summary>C_l [n, n] of one layer from its trace, written to <paramref name="destination"/>.</summary>
    public static void LayerMatrix(EncoderConfig config, LayerWeights w, Trace trace, int layer, Span<float> destination)
    {
        var probs = trace[layer, LayerStep.Probs];                                      // α  [H, n, n]
        var x = LayerMatrices.LayerInput(trace, layer);                                 // x  [n, d]
        var residual = trace[layer, LayerStep.AttentionResidual];                       //    [n, d]
        var y = trace[layer, LayerStep.AttentionLayerNorm];                             // y  [n, d]
        int heads = config.NumAttentionHeads, n = probs.Shape[1], d = config.HiddenSize;
        var gamma = w.AttentionLayerNormWeight.Span;

        // A[h, j] = (f^h(x_j) − mean) ⊙ γ;  X̂_i = (x_i − mean) ⊙ γ                       [H, n, d], [n, d]
        var a = AttentionNorm.TransformedValues(config, w, trace[layer, LayerStep.Value]);
        for (int r = 0; r < heads * n; r++) CenterAndScale(a.AsSpan(r * d, d), gamma);
        var xHat = new float[n * d];
        x.Data.AsSpan(0, n * d).CopyTo(xHat);
        for (int i = 0; i < n; i++) CenterAndScale(xHat.AsSpan(i * d, d), gamma);

        // 1/σ_i and ‖y_i‖₁
        var inverseSigma = new double[n];
        var yNorm = new double[n];
        for (int i = 0; i < n; i++)
        {
            inverseSigma[i] = 1 / Math.Sqrt(Variance(residual.Row(i)) + config.LayerNormEps);
            double s = 0;
            foreach (var v in y.Row(i)) s += Math.Abs(v);
            yNorm[i] = s;
        }

        var c = new double[n * n];
        Parallel.For(0, n, AnalysisThreads.Options, () => (new float[n * heads], new float[n * d]), (j, _, scratch) =>
        {
            var (coefficients, t) = scratch;
            // coefficients[i, h] = α^h_{i,j} / σ_i                                              [n, H]
            for (int i = 0; i < n; i++)
                for (int h = 0; h < heads; h++)
                    coefficients[i * heads + h] = (float)(probs.Data[(h * n + i) * n + j] * inverseSigma[i]);
            // T[i] = Σ_h coefficients[i, h] A[h, j]                                           [n, H] x [H, d] -> [n, d]
            Gemm.MatMulNN(coefficients, heads, a.AsSpan(j * d), n * d, t, d, n, d, heads, parallel: false);
            // + the residual 1[i = j] X̂_j / σ_j
            var tj = t.AsSpan(j * d, d);
            float sj = (float)inverseSigma[j];
            for (int k = 0; k < d; k++) tj[k] += xHat[j * d + k] * sj;
            // c_ij = max(0, ‖y_i‖₁ − ‖y_i − T_i(x_j)‖₁)
            for (int i = 0; i < n; i++)
            {
                double distance = L1Distance(y.Row(i), t.AsSpan(i * d, d));
                c[i * n + j] = Math.Max(0, yNorm[i] - distance);
            }
            return scratch;
        }, _ => { });

        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++) sum += c[i * n + j];
            for (int j = 0; j < n; j++) destination[i * n + j] = sum > 0 ? (float)(c[i * n + j] / sum) : 0f;
        }
    }

    /// <summary>‖a − b‖₁: differences in float32, their magnitudes summed in float64 (vectorised).</summary>
    internal static double L1Distance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var acc0 = Vector<double>.Zero;
        var acc1 = Vector<double>.Zero;
        int k = 0, width = Vector<float>.Count;
        for (; k <= a.Length - width; k += width)
        {
            Vector.Widen(Vector.Abs(new Vector<float>(a.Slice(k)) - new Vector<float>(b.Slice(k))), out var lo, out var hi);
            acc0 += lo;
            acc1 += hi;
        }
        double s = Vector.Sum(acc0 + acc1);
        for (; k < a.Length; k++) s += Math.Abs(a[k] - b[k]);
        return s;
    }

    /// <summary>v ← (v − mean(v)) ⊙ γ, the mean in float64 (the linear part of a LayerNorm, before dividing by σ).</summary>
    internal static void CenterAndScale(Span<float> v, ReadOnlySpan<float> gamma)
    {
        double mean = 0;
        foreach (var e in v) mean += e;
        mean /= v.Length;
        for (int k = 0; k < v.Length; k++) v[k] = (float)((v[k] - mean) * gamma[k]);
    }

    /// <summary>The biased variance of a row, in float64.</summary>
    internal static double Variance(ReadOnlySpan<float> v)
    {
        double mean = 0;
        foreach (var e in v) mean += e;
        mean /= v.Length;
        double s = 0;
        foreach (var e in v) s += (e - mean) * (e - mean);
        return s / v.Length;
    }
}
