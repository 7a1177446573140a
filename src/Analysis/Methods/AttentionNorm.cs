using System.Numerics;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Kernels;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Attention norm ("norm-based analysis"): Kobayashi, Kuribayashi, Yokoi &amp; Inui, "Attention is Not Only a Weight:
/// Analyzing Transformers with Vector Norms", EMNLP 2020, arXiv:2004.10102 (v2), §2.2 (attention as a weighted sum of
/// transformed vectors α_{i,j} f(x_j)) and §3 (the norm-based analysis, ‖α_{i,j} f(x_j)‖). Multi-head, with the heads
/// summed before the norm (equation numbers not cited: not verified against the arXiv text):
/// <code>
/// f^h(x) = (x W_V^h + b_V^h) W_O^h                     transformed vector of head h (no b_O)
/// N_l[i, j] = ‖ Σ_h α^h_{i,j} f^h(x_j) ‖₂               x_j = input of layer l, α^h = attention probs of head h
/// </code>
/// Not normalised. In HF layout (W_O [d, d], y = c W_Oᵀ) f^h(x_j) = v_{h,j} W_O[:, h·d_head .. (h+1)·d_head]ᵀ, with
/// v_{h,j} the traced value vector (b_V included); <see cref="TransformedValues"/> computes all of them with one GEMM
/// per head. The norm is taken through the per-token Gram matrix G_j[h, h'] = ⟨f^h(x_j), f^{h'}(x_j)⟩ (float64):
/// N[i, j]² = α_{i,j}ᵀ G_j α_{i,j}, which costs n²·H² instead of n²·H·d.
/// Deviations: none from <c>analysis.attention_norm</c> (the authors' code, norm-analysis-of-transformer, gives the
/// same up to rounding).
/// </summary>
public static class AttentionNorm
{
    /// <summary>The sub-steps <see cref="Compute"/> reads from a trace.</summary>
    public static TraceRequest Requirements { get; } = TraceRequest.Steps(false, LayerStep.Value, LayerStep.Probs);

    /// <summary>Attention-norm matrices [L, n, n] of one text (row i = output token, column j = input token).</summary>
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
        var probs = trace[layer, LayerStep.Probs];                                          // α  [H, n, n]
        int heads = config.NumAttentionHeads, n = probs.Shape[1], d = config.HiddenSize;
        var f = TransformedValues(config, w, trace[layer, LayerStep.Value]);                // F  [H, n, d]
        var gram = GramPerToken(f, heads, n, d);                                            // G  [n, H, H]
        var result = new float[n * n];
        Parallel.For(0, n, AnalysisThreads.Options, () => new double[heads], (i, _, alpha) =>
        {
            for (int j = 0; j < n; j++)
            {
                for (int h = 0; h < heads; h++) alpha[h] = probs.Data[(h * n + i) * n + j];
                result[i * n + j] = (float)Math.Sqrt(Math.Max(0, QuadraticForm(gram.AsSpan(j * heads * heads, heads * heads), alpha)));
            }
            return alpha;
        }, _ => { });
        result.CopyTo(destination);
    }

    /// <summary>
    /// The transformed value vectors F[h, j, :] = f^h(x_j) = v_{h,j} W_O^hᵀ-slice, [H, n, d] (row-major), from the
    /// traced values V [n, d] (after b_V; head h in columns h·d_head .. (h+1)·d_head) and W_O [d, d] (HF layout).
    /// Σ_h Σ_j α^h_{i,j} F[h, j] + b_O is the attention output of token i.
    /// </summary>
    public static float[] TransformedValues(EncoderConfig config, LayerWeights w, Tensor value)
    {
        int heads = config.NumAttentionHeads, headDim = config.HeadDim, d = config.HiddenSize, n = value.Shape[0];
        var f = new float[heads * n * d];
        var wo = w.AttentionOutputWeight;
        Parallel.For(0, heads, AnalysisThreads.Options, h =>
        {
            // F_h = V[:, h-cols] · W_O[:, h-cols]ᵀ                                       [n, d_head] x [d_head, d] -> [n, d]
            Gemm.MatMulNT(value.Data.AsSpan(h * headDim), d, wo.Span.Slice(h * headDim), d,
                f.AsSpan(h * n * d, n * d), d, n, d, headDim, parallel: false);
        });
        return f;
    }

    /// <summary>A token-independent linear map applied to one row [d] in place (e.g. a LayerNorm's centring and γ).</summary>
    internal delegate void RowMap(Span<float> v);

    /// <summary>
    /// The norms of the per-pair vectors with the residual, through a linear map, [n, n], written to
    /// <paramref name="destination"/> (the shared core of <see cref="AttentionNormResLn"/> and <see cref="GlobEnc"/>):
    /// <code>
    /// z_{i←j}  = Σ_h α^h_{i,j} f^h(x_j) + 1[i = j] x_i        x = input of layer l
    /// N[i, j]  = s_i ‖ M z_{i←j} ‖₂                          M token-independent and linear, s_i a per-row scale
    /// </code>
    /// M is applied once to every f^h(x_j) (<see cref="TransformedValues"/>) and x_j, and the norm goes through
    /// per-token Gram matrices in float64:
    /// (N[i, j] / s_i)² = α_{i,j}ᵀ G_j α_{i,j} + 1[i = j] (2 α_{i,i}·b_i + ‖M x_i‖²),
    /// G_j[h, h'] = ⟨M f^h(x_j), M f^{h'}(x_j)⟩, b_i[h] = ⟨M f^h(x_i), M x_i⟩ — n²·H² work instead of n²·H·d.
    /// </summary>
    /// <param name="map">M, applied in place to a row [d].</param>
    /// <param name="scale">s [n].</param>
    internal static void ResidualNorms(EncoderConfig config, LayerWeights w, Trace trace, int layer, RowMap map,
        double[] scale, Span<float> destination)
    {
        var probs = trace[layer, LayerStep.Probs];                                      // α  [H, n, n]
        var x = LayerMatrices.LayerInput(trace, layer);                                 // x  [n, d]
        int heads = config.NumAttentionHeads, n = probs.Shape[1], d = config.HiddenSize;

        // M f^h(x_j) [H, n, d] and M x_i [n, d]
        var mf = TransformedValues(config, w, trace[layer, LayerStep.Value]);
        for (int r = 0; r < heads * n; r++) map(mf.AsSpan(r * d, d));
        var mx = new float[n * d];
        x.Data.AsSpan(0, n * d).CopyTo(mx);
        for (int i = 0; i < n; i++) map(mx.AsSpan(i * d, d));

        var gram = GramPerToken(mf, heads, n, d);                                       // G  [n, H, H]
        var cross = new double[n * heads];                                              // b  [n, H]
        var self = new double[n];                                                       //    ‖M x_i‖²
        Parallel.For(0, n, AnalysisThreads.Options, i =>
        {
            var mxi = mx.AsSpan(i * d, d);
            for (int h = 0; h < heads; h++) cross[i * heads + h] = Dot(mf.AsSpan((h * n + i) * d, d), mxi);
            self[i] = Dot(mxi, mxi);
        });

        var result = new float[n * n];
        Parallel.For(0, n, AnalysisThreads.Options, () => new double[heads], (i, _, alpha) =>
        {
            for (int j = 0; j < n; j++)
            {
                for (int h = 0; h < heads; h++) alpha[h] = probs.Data[(h * n + i) * n + j];
                double squared = QuadraticForm(gram.AsSpan(j * heads * heads, heads * heads), alpha);
                if (i == j)
                {
                    double dot = 0;
                    for (int h = 0; h < heads; h++) dot += alpha[h] * cross[i * heads + h];
                    squared += 2 * dot + self[i];
                }
                result[i * n + j] = (float)(Math.Sqrt(Math.Max(0, squared)) * scale[i]);
            }
            return alpha;
        }, _ => { });
        result.CopyTo(destination);
    }

    /// <summary>G[j, h, h'] = ⟨F[h, j], F[h', j]⟩ in float64, [n, H, H], from F [H, n, d].</summary>
    internal static double[] GramPerToken(float[] f, int heads, int n, int d)
    {
        var gram = new double[n * heads * heads];
        Parallel.For(0, n, AnalysisThreads.Options, j =>
        {
            var g = gram.AsSpan(j * heads * heads, heads * heads);
            for (int h = 0; h < heads; h++)
            {
                var a = f.AsSpan((h * n + j) * d, d);
                for (int h2 = h; h2 < heads; h2++)
                {
                    double dot = Dot(a, f.AsSpan((h2 * n + j) * d, d));
                    g[h * heads + h2] = dot;
                    g[h2 * heads + h] = dot;
                }
            }
        });
        return gram;
    }

    /// <summary>aᵀ G a for a symmetric G [k, k] and a [k].</summary>
    internal static double QuadraticForm(ReadOnlySpan<double> g, ReadOnlySpan<double> a)
    {
        int k = a.Length;
        double s = 0;
        for (int h = 0; h < k; h++)
        {
            if (a[h] == 0) continue;
            double row = 0;
            for (int h2 = 0; h2 < k; h2++) row += g[h * k + h2] * a[h2];
            s += a[h] * row;
        }
        return s;
    }

    /// <summary>Σ_k a[k]·b[k], the products and their sum in float64 (vectorised: float lanes widened to double).</summary>
    internal static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        var acc0 = Vector<double>.Zero;
        var acc1 = Vector<double>.Zero;
        int k = 0, width = Vector<float>.Count;
        for (; k <= a.Length - width; k += width)
        {
            Vector.Widen(new Vector<float>(a.Slice(k)), out var a0, out var a1);
            Vector.Widen(new Vector<float>(b.Slice(k)), out var b0, out var b1);
            acc0 += a0 * b0;
            acc1 += a1 * b1;
        }
        double s = Vector.Sum(acc0 + acc1);
        for (; k < a.Length; k++) s += (double)a[k] * b[k];
        return s;
    }
}
