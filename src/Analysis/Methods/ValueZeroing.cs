using System.Numerics;
using System.Runtime.InteropServices;
using MixLens.Analysis.Numerics;
using MixLens.Engine;
using MixLens.Engine.Interventions;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using MixLens.Kernels;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Value Zeroing: Mohebbi, Zuidema, Chrupała &amp; Alishahi, "Quantifying Context Mixing in Transformers",
/// EACL 2023, arXiv:2301.12971, §3 (Eq. 4–5). For layer l and input token j, re-run layer l on its unchanged input
/// with the value vector v_j (after the value bias) set to zero in every head (attention weights unchanged), giving
/// outputs x̃ᵢ^¬j; then
/// <code>
/// C_l[i, j] = Δ(x̃ᵢ^¬j, x̃ᵢ),   Δ = cosine distance,   each row i divided by Σ_j C_l[i, j]
/// </code>
/// Numerics: the distances go down to 1e-9 (e.g. small random models), far below float32 resolution of the outputs
/// themselves, so subtracting two float32 layer outputs cannot resolve them. <see cref="Compute"/> therefore
/// propagates the perturbation itself, as exact differences through W_O, LayerNorm 1, the FFN and LayerNorm 2
/// (<see cref="LayerNormDelta"/>, <see cref="ActivationDelta"/>), and forms the distance ½‖û′ − û‖² of the unit
/// vectors from Δ in float64; it is also the fast path (ValueZeroing.FastPath.cs: only the second FFN matrix is
/// multiplied per (i, j) pair). <see cref="ComputeByRerun"/> is the literal algorithm (re-run the patched layer through
/// the encoder, original and perturbed through the same code path), kept as the reference.
/// Deviations: none from the authors' code (rows normalised; its rollout is the plain product, no identity added).
/// </summary>
public static partial class ValueZeroing
{
    /// <summary>Upper bound on the Δ rows (perturbations × tokens) processed per batch.</summary>
    const int MaxRowsPerBatch = 8192;  // of the re-run

    /// <summary>The sub-steps <see cref="Compute"/> reads from a trace.</summary>
    public static TraceRequest Requirements { get; } = TraceRequest.Steps(true,
        LayerStep.Value, LayerStep.Probs, LayerStep.AttentionResidual, LayerStep.AttentionLayerNorm,
        LayerStep.FfnResidual, LayerStep.Output);

    /// <summary>Value Zeroing matrices [L, n, n] of one text (exact perturbation propagation). When the encoder's
    /// <see cref="BertEncoder.Backend"/> also implements <see cref="IValueZeroingPairs"/> (the GPU backend), the pair
    /// loop runs there; the per-token precomputations stay here.</summary>
    /// <param name="encoder">the encoder.</param>
    /// <param name="input">the text.</param>
    /// <param name="head">null: zero v_j in all heads; h: only in head h ("per-head zeroing").</param>
    /// <param name="trace">a trace of this text holding <see cref="Requirements"/> (null: run the forward pass here).</param>
    /// <param name="progress">receives the fraction of the (layer, token) tasks done (null: none).</param>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="head"/> does not exist.</exception>
    public static Tensor Compute(BertEncoder encoder, EncoderInput input, int? head = null, Trace? trace = null,
        IProgress<double>? progress = null)
    {
        CheckHead(encoder.Config, head);
        trace ??= encoder.Forward(input, Requirements).Trace;
        int L = encoder.Config.NumHiddenLayers;
        return LayerMatrices.Stack(encoder, trace, input.Length,
            (config, w, t, layer, destination) => LayerMatrix(config, w, t, layer, head, destination,
                Cost.ProgressSpan.Of(progress, (double)layer / L, (layer + 1.0) / L), encoder.Backend as IValueZeroingPairs));
    }

    /// <summary>
    /// Value Zeroing by literally re-running each patched layer through the encoder
    /// (<see cref="BertEncoder.RunLayer"/> with <see cref="ZeroValueVectors"/>), the unperturbed copy in the same
    /// batched call so that float32 rounding is shared; distance ½‖â − b̂‖² in float64. Accurate to ~1e-6 on real
    /// models; on models whose distances fall below ~1e-8 it loses digits (use <see cref="Compute"/>).
    /// </summary>
    public static Tensor ComputeByRerun(BertEncoder encoder, EncoderInput input, int? head = null, Trace? hiddenStates = null)
    {
        var config = encoder.Config;
        CheckHead(config, head);
        hiddenStates ??= encoder.Forward(input, TraceRequest.HiddenStates).Trace;
        int L = config.NumHiddenLayers, n = input.Length;
        var result = Tensor.Zeros(L, n, n);
        for (int l = 0; l < L; l++)
        {
            var layerInput = LayerMatrices.LayerInput(hiddenStates, l);
            var distances = new double[n * n];
            int copies = n + 1, perCall = Math.Max(1, MaxRowsPerBatch / n);
            Tensor? original = null;
            for (int first = 0; first < copies; first += perCall)
            {
                int count = Math.Min(perCall, copies - first);
                var inputs = Enumerable.Repeat(layerInput, count).ToArray();
                var masks = Enumerable.Repeat(input.AttentionMask, count).ToArray();
                // copy 0 is the unperturbed layer; copy c ≥ 1 zeroes token j = c − 1
                var patches = Enumerable.Range(first, count)
                    .Select(c => c == 0 ? null : (IActivationPatch)new ZeroValueVectors(l, c - 1, head, config.HeadDim)).ToArray();
                var outputs = encoder.RunLayer(l, inputs, masks, patches).LastHiddenStates;
                for (int c = 0; c < count; c++)
                {
                    if (first + c == 0) { original = outputs[c]; continue; }
                    int j = first + c - 1;
                    for (int i = 0; i < n; i++) distances[i * n + j] = CosineDistance(outputs[c].Row(i), original!.Row(i));
                }
            }
            NormaliseRows(distances, n, result.Data.AsSpan(l * n * n, n * n));
        }
        return result;
    }

    /// <summary>
    /// 1 − cos(y + Δy, y) = ½‖û′ − û‖², formed from Δy so that tiny increments keep their digits (float64, vectorised):
    /// û′ − û = Δy/‖y′‖ + y (1/‖y′‖ − 1/‖y‖), with 1/‖y′‖ − 1/‖y‖ = −(‖y′‖² − ‖y‖²) / (‖y‖ ‖y′‖ (‖y‖ + ‖y′‖)).
    /// </summary>
    /// <param name="y">the unperturbed output row [d], widened to float64.</param>
    /// <param name="yy">‖y‖².</param>
    /// <param name="dy">its increment Δy [d].</param>
    public static double CosineDistanceOfIncrement(ReadOnlySpan<double> y, double yy, ReadOnlySpan<double> dy)
    {
        int d = y.Length, w = Vector<double>.Count;
        var vy = MemoryMarshal.Cast<double, Vector<double>>(y);
        var vdy = MemoryMarshal.Cast<double, Vector<double>>(dy[..d]);
        Vector<double> ydyV = Vector<double>.Zero, dydyV = Vector<double>.Zero;
        for (int v = 0; v < vy.Length; v++)
        {
            ydyV += vy[v] * vdy[v];
            dydyV += vdy[v] * vdy[v];
        }
        double ydy = Vector.Sum(ydyV), dydy = Vector.Sum(dydyV);
        for (int k = vy.Length * w; k < d; k++)
        {
            ydy += y[k] * dy[k];
            dydy += dy[k] * dy[k];
        }
        double norm = Math.Sqrt(yy);
        double norm2 = Math.Sqrt(yy + 2 * ydy + dydy);
        if (norm == 0 || norm2 == 0) return norm == norm2 ? 0 : 1;
        double scale = -(2 * ydy + dydy) / (norm * norm2 * (norm + norm2));
        double inverseNorm2 = 1 / norm2;
        var vScale = new Vector<double>(scale);
        var vInverse = new Vector<double>(inverseNorm2);
        var sumV = Vector<double>.Zero;
        for (int v = 0; v < vy.Length; v++)
        {
            var du = vdy[v] * vInverse + vy[v] * vScale;
            sumV += du * du;
        }
        double sum = Vector.Sum(sumV);
        for (int k = vy.Length * w; k < d; k++)
        {
            double du = dy[k] * inverseNorm2 + y[k] * scale;
            sum += du * du;
        }
        return 0.5 * sum;
    }

    /// <summary>1 − cos(a, b), computed as ½‖a/‖a‖ − b/‖b‖‖² in float64.</summary>
    public static double CosineDistance(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double na = 0, nb = 0;
        for (int k = 0; k < a.Length; k++)
        {
            na += (double)a[k] * a[k];
            nb += (double)b[k] * b[k];
        }
        na = Math.Sqrt(na);
        nb = Math.Sqrt(nb);
        if (na == 0 || nb == 0) return na == nb ? 0 : 1;
        double sq = 0;
        for (int k = 0; k < a.Length; k++)
        {
            double diff = a[k] / na - b[k] / nb;
            sq += diff * diff;
        }
        return 0.5 * sq;
    }

    static void NormaliseRows(double[] distances, int n, Span<float> destination)
    {
        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++) sum += distances[i * n + j];
            for (int j = 0; j < n; j++) destination[i * n + j] = sum > 0 ? (float)(distances[i * n + j] / sum) : 0f;
        }
    }

    static void CheckHead(EncoderConfig config, int? head)
    {
        if (head is int h && (uint)h >= (uint)config.NumAttentionHeads)
            throw new ArgumentOutOfRangeException(nameof(head), $"head {h} does not exist; the model has heads 0..{config.NumAttentionHeads - 1}");
    }
}
