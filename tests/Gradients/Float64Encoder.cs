using System.Numerics;
using System.Runtime.CompilerServices;
using MixLens.Engine.Model;

namespace MixLens.Tests.Gradients;

/// <summary>Replaces or perturbs layer <paramref name="layer"/>'s attention probabilities of head
/// <paramref name="head"/> [n, n] in place, after the softmax and before they weight the values.</summary>
public delegate void ProbsHook(int layer, int head, Span<double> probs);

/// <summary>Where a <see cref="Float64Encoder"/> forward departs from the plain one.</summary>
public sealed class Float64Hooks
{
    /// <summary>Word-embedding rows x [n, E] used in place of E_word[id] (null: the table's rows).</summary>
    public double[]? WordRows { get; init; }
    /// <summary>Added to embeddings.output e⁰ [n, d] (null: nothing).</summary>
    public double[]? EmbeddingsDelta { get; init; }
    /// <summary>Called on every layer's and head's attention probabilities (null: none).</summary>
    public ProbsHook? Probs { get; init; }
}

/// <summary>A float64 forward of one text: e⁰ = embeddings.output and Xˡ = layers.{l-1}.output [n, d], the attention
/// probabilities per layer [H, n, n] (as used, after any hook), and a signature of the ReLU pattern (0 for GELU).</summary>
public sealed record Float64Pass(int Tokens, double[] EmbeddingsOutput, double[][] LayerOutputs, double[][] Probs, ulong KinkSignature)
{
    /// <summary>X^L [n, d].</summary>
    public double[] LastHidden => LayerOutputs[^1];

    /// <summary>The input of layer <paramref name="layer"/>: e⁰ for layer 0, else the previous layer's output [n, d].</summary>
    public double[] LayerInput(int layer) => layer == 0 ? EmbeddingsOutput : LayerOutputs[layer - 1];
}

/// <summary>
/// An independent float64 reference forward of the encoder for the finite-difference tests, written from the equations
/// (Devlin et al. 2019; HF <c>BertModel</c>, <c>RobertaModel</c>, <c>DistilBertModel</c>, <c>ElectraModel</c>) with plain
/// loops and no engine kernel: only the checkpoint's weights (float32, read into double) and its config are shared
/// with the engine. One text, no padding. n tokens, d hidden, E embedding width, H heads, f FFN width:
/// <code>
///   e_t = LayerNorm(x_t + E_type[type_t] + E_pos[p_t])      [E]   x_t = E_word[id_t] or an override row; no E_type in DistilBERT
///   e⁰_t = e_t W_projᵀ + b_proj (ELECTRA, E ≠ d), else e_t  [d]   p_t = t, or RoBERTa's pad + 1 + t
///   per layer:  Q, K, V = X W_{Q,K,V}ᵀ + b                   [n, d]
///               A_h = softmax(Q_h K_hᵀ / √d_head)            [H, n, n]   (hook: replace or perturb)
///               X₁ = LayerNorm₁(concat_h(A_h V_h) W_Oᵀ + b_O + X)
///               Y  = LayerNorm₂(act(X₁ W_inᵀ + b_in) W_outᵀ + b_out + X₁)   act: erf GELU, tanh GELU or ReLU
/// </code>
/// </summary>
public sealed class Float64Encoder
{
    sealed record Layer(
        double[] WQ, double[] BQ, double[] WK, double[] BK, double[] WV, double[] BV, double[] WO, double[] BO,
        double[] Gamma1, double[] Beta1, double[] WIn, double[] BIn, double[] WOut, double[] BOut, double[] Gamma2, double[] Beta2);

    readonly EmbeddingWeights _embeddings;
    readonly double[] _embeddingGamma, _embeddingBeta, _projectionWeight, _projectionBias;
    readonly Layer[] _layers;
    readonly int _d, _e, _f, _heads, _headDim;
    readonly double _eps;

    public EncoderConfig Config { get; }

    public Float64Encoder(EncoderConfig config, BertWeights weights)
    {
        Config = config;
        (_d, _e, _f, _heads, _headDim) = (config.HiddenSize, config.EmbeddingSize, config.IntermediateSize, config.NumAttentionHeads, config.HeadDim);
        _eps = config.LayerNormEps;
        _embeddings = weights.Embeddings;
        _embeddingGamma = D(weights.Embeddings.LayerNormWeight);
        _embeddingBeta = D(weights.Embeddings.LayerNormBias);
        _projectionWeight = D(weights.Embeddings.ProjectionWeight);
        _projectionBias = D(weights.Embeddings.ProjectionBias);
        _layers = weights.Layers.Select(w => new Layer(
            D(w.QueryWeight), D(w.QueryBias), D(w.KeyWeight), D(w.KeyBias), D(w.ValueWeight), D(w.ValueBias),
            D(w.AttentionOutputWeight), D(w.AttentionOutputBias), D(w.AttentionLayerNormWeight), D(w.AttentionLayerNormBias),
            D(w.IntermediateWeight), D(w.IntermediateBias), D(w.OutputWeight), D(w.OutputBias),
            D(w.OutputLayerNormWeight), D(w.OutputLayerNormBias))).ToArray();
    }

    static double[] D(ReadOnlyMemory<float> x)
    {
        var span = x.Span;
        var y = new double[span.Length];
        for (int i = 0; i < y.Length; i++) y[i] = span[i];
        return y;
    }

    /// <summary>The word-embedding rows E_word[id_t] of a text [n, E].</summary>
    public double[] WordRows(EncoderInput input)
    {
        var table = _embeddings.Word.Span;
        var x = new double[input.Length * _e];
        for (int t = 0; t < input.Length; t++)
            for (int k = 0; k < _e; k++) x[t * _e + k] = table[input.InputIds[t] * _e + k];
        return x;
    }

    /// <summary>The whole forward of one text.</summary>
    public Float64Pass Forward(EncoderInput input, Float64Hooks? hooks = null)
    {
        var e0 = Embed(input, hooks?.WordRows);
        if (hooks?.EmbeddingsDelta is { } delta)
            for (int k = 0; k < e0.Length; k++) e0[k] += delta[k];
        return ForwardFrom(0, e0, input.Length, hooks?.Probs);
    }

    /// <summary>Layers <paramref name="fromLayer"/>..L-1 from that layer's input x [n, d] (the embeddings output for
    /// layer 0); <see cref="Float64Pass.LayerOutputs"/> and <see cref="Float64Pass.Probs"/> of earlier layers are null.</summary>
    public Float64Pass ForwardFrom(int fromLayer, double[] x, int n, ProbsHook? probsHook = null)
    {
        int L = _layers.Length;
        var outputs = new double[L][];
        var probs = new double[L][];
        ulong signature = 14695981039346656037UL;
        var input = x;
        for (int l = fromLayer; l < L; l++)
        {
            probs[l] = new double[_heads * n * n];
            outputs[l] = LayerForward(l, input, n, probsHook, probs[l], ref signature);
            input = outputs[l];
        }
        return new Float64Pass(n, fromLayer == 0 ? x : null!, outputs, probs, Config.HiddenAct == Activation.Relu ? signature : 0);
    }

    /// <summary>embeddings.output e⁰ [n, d] of a text, with the word rows <paramref name="wordRows"/> [n, E] when given.</summary>
    public double[] Embed(EncoderInput input, double[]? wordRows = null)
    {
        int n = input.Length, E = _e;
        var position = _embeddings.Position.Span;
        var type = _embeddings.TokenType.Span;
        wordRows ??= WordRows(input);
        var e = new double[n * E];
        for (int t = 0; t < n; t++)
        {
            // p_t = t, or (RoBERTa, no padding in the text) padding_idx + 1 + t
            int p = Config.PositionScheme == PositionScheme.AfterPadding ? Config.PadTokenId + 1 + t : t;
            for (int k = 0; k < E; k++)
            {
                double sum = wordRows[t * E + k] + position[p * E + k];
                if (!type.IsEmpty) sum += type[input.TokenTypeIds[t] * E + k];
                e[t * E + k] = sum;
            }
        }
        LayerNorm(e, n, E, _embeddingGamma, _embeddingBeta, _eps);
        return _projectionWeight.Length == 0 ? e : Linear(e, n, E, _projectionWeight, _projectionBias, _d);
    }

    // The hot loops are compiled fully optimised at once (AggressiveOptimization): left to tiered compilation, the
    // first forwards ran at tier 0, ~15x slower, for seconds on a loaded machine.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    double[] LayerForward(int l, double[] x, int n, ProbsHook? hook, double[] probsOut, ref ulong signature)
    {
        var w = _layers[l];
        int d = _d, dh = _headDim;
        var q = Linear(x, n, d, w.WQ, w.BQ, d);
        var k = Linear(x, n, d, w.WK, w.BK, d);
        var v = Linear(x, n, d, w.WV, w.BV, d);

        // A_h = softmax(Q_h K_hᵀ / √d_head); context_h = A_h V_h                    [H, n, n], [n, d]
        var context = new double[n * d];
        double scale = 1 / Math.Sqrt(dh);
        for (int h = 0; h < _heads; h++)
        {
            var a = probsOut.AsSpan(h * n * n, n * n);
            for (int i = 0; i < n; i++)
            {
                var row = a.Slice(i * n, n);
                for (int j = 0; j < n; j++)
                    row[j] = scale * Dot(q.AsSpan(i * d + h * dh, dh), k.AsSpan(j * d + h * dh, dh));
                double max = double.NegativeInfinity;
                foreach (double s in row) max = Math.Max(max, s);
                double sum = 0;
                for (int j = 0; j < n; j++) sum += row[j] = Math.Exp(row[j] - max);
                for (int j = 0; j < n; j++) row[j] /= sum;
            }
            hook?.Invoke(l, h, a);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    double aij = a[i * n + j];
                    for (int c = 0; c < dh; c++) context[i * d + h * dh + c] += aij * v[j * d + h * dh + c];
                }
        }

        // X₁ = LayerNorm₁(context W_Oᵀ + b_O + X)
        var x1 = Linear(context, n, d, w.WO, w.BO, d);
        for (int i = 0; i < x1.Length; i++) x1[i] += x[i];
        LayerNorm(x1, n, d, w.Gamma1, w.Beta1, _eps);

        // Y = LayerNorm₂(act(X₁ W_inᵀ + b_in) W_outᵀ + b_out + X₁)
        var u = Linear(x1, n, d, w.WIn, w.BIn, _f);
        for (int i = 0; i < u.Length; i++)
        {
            if (Config.HiddenAct == Activation.Relu) signature = (signature ^ (u[i] > 0 ? 1UL : 2UL)) * 1099511628211UL;
            u[i] = Activate(Config.HiddenAct, u[i]);
        }
        var y = Linear(u, n, _f, w.WOut, w.BOut, d);
        for (int i = 0; i < y.Length; i++) y[i] += x1[i];
        LayerNorm(y, n, d, w.Gamma2, w.Beta2, _eps);
        return y;
    }

    /// <summary>y = x Wᵀ + b for x [rows, in], W [out, in] (HF Linear layout).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static double[] Linear(double[] x, int rows, int inF, double[] w, double[] b, int outF)
    {
        var y = new double[rows * outF];
        for (int r = 0; r < rows; r++)
            for (int o = 0; o < outF; o++)
                y[r * outF + o] = b[o] + Dot(x.AsSpan(r * inF, inF), w.AsSpan(o * inF, inF));
        return y;
    }

    /// <summary>Σ_k a_k b_k.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        var sum = Vector<double>.Zero;
        int k = 0;
        for (; k <= a.Length - Vector<double>.Count; k += Vector<double>.Count)
            sum += new Vector<double>(a.Slice(k)) * new Vector<double>(b.Slice(k));
        double result = Vector.Sum(sum);
        for (; k < a.Length; k++) result += a[k] * b[k];
        return result;
    }

    /// <summary>Per row: (x − μ)/√(σ² + ε) · γ + β, biased variance, in place.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    static void LayerNorm(double[] x, int rows, int cols, double[] gamma, double[] beta, double eps)
    {
        for (int r = 0; r < rows; r++)
        {
            var row = x.AsSpan(r * cols, cols);
            double mean = 0;
            foreach (double v in row) mean += v;
            mean /= cols;
            double variance = 0;
            foreach (double v in row) variance += (v - mean) * (v - mean);
            variance /= cols;
            double rstd = 1 / Math.Sqrt(variance + eps);
            for (int c = 0; c < cols; c++) row[c] = (row[c] - mean) * rstd * gamma[c] + beta[c];
        }
    }

    /// <summary>The FFN activation in float64.</summary>
    public static double Activate(Activation activation, double u) => activation switch
    {
        Activation.Gelu => 0.5 * u * (1 + Erf(u / Math.Sqrt(2))),
        Activation.GeluTanh => 0.5 * u * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (u + 0.044715 * u * u * u))),
        Activation.Relu => Math.Max(0, u),
        _ => throw new ArgumentOutOfRangeException(nameof(activation), activation, null),
    };

    /// <summary>
    /// erf in float64 to about 2e-15 absolute: for |x| ≤ 3 the series of positive terms
    /// erf(x) = 2/√π · e^(−x²) · Σₙ (2x²)ⁿ x / (2n+1)!! (Abramowitz &amp; Stegun 7.1.6; no cancellation), beyond it
    /// 1 − erfc(x) with erfc's continued fraction e^(−x²)/√π · 1/(x + ½/(x + 1/(x + 3/2/(x + …)))) (A&amp;S 7.1.14).
    /// </summary>
    public static double Erf(double x)
    {
        double a = Math.Abs(x), result;
        if (a <= 3)
        {
            double term = a, sum = a;
            for (int n = 1; term > 1e-17 * sum; n++)
            {
                term *= 2 * a * a / (2 * n + 1);
                sum += term;
            }
            result = 2 / Math.Sqrt(Math.PI) * Math.Exp(-a * a) * sum;
        }
        else
        {
            double f = a;
            for (int n = 60; n >= 1; n--) f = a + n / 2.0 / f;
            result = 1 - Math.Exp(-a * a) / Math.Sqrt(Math.PI) / f;
        }
        return x < 0 ? -result : result;
    }
}
