using MixLens.Engine;
using MixLens.Engine.Interventions;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Value Zeroing: Mohebbi, Zuidema, Chrupała &amp; Alishahi, "Quantifying Context Mixing in Transformers",
/// EACL 2023, arXiv:2301.12971, §3 (Eq. 4–5). For layer l and input token j, re-run layer l on its unchanged input
/// with the value vector v_j (after the value bias) set to zero in every head (attention weights unchanged), giving
/// outputs x̃ᵢ^¬j; then
/// <code>
/// C_l[i, j] = Δ(x̃ᵢ^¬j, x̃ᵢ),   Δ = cosine distance,   each row i divided by Σ_j C_l[i, j]
/// </code>
/// Numerics: distances go down to 1e-8, where <c>1 − cos</c> in float32 is pure rounding. The distance is computed
/// as ½‖â − b̂‖² of the unit vectors in float64 (equal to 1 − cos), and the original output x̃ᵢ is recomputed through
/// the same batched layer call as the perturbed ones, so their float32 rounding is identical and cancels.
/// Deviations: none from the authors' code (rows normalised; rollout is the plain product, no identity added).
/// </summary>
public static class ValueZeroing
{
    /// <summary>Upper bound on the rows (perturbed copies × tokens) run through one batched layer call.</summary>
    const int MaxRowsPerCall = 8192;

    /// <summary>Value Zeroing matrices [L, n, n] of one text.</summary>
    /// <param name="encoder">the encoder.</param>
    /// <param name="input">the text.</param>
    /// <param name="head">null: zero v_j in all heads; h: only in head h ("per-head zeroing").</param>
    /// <param name="hiddenStates">a trace of this text holding <c>embeddings.output</c> and every <c>layers.{l}.output</c>
    /// (null: run the forward pass here).</param>
    public static Tensor Compute(BertEncoder encoder, EncoderInput input, int? head = null, Trace? hiddenStates = null)
    {
        var config = encoder.Config;
        if (head is int h && (uint)h >= (uint)config.NumAttentionHeads)
            throw new ArgumentOutOfRangeException(nameof(head), $"head {h} does not exist; the model has heads 0..{config.NumAttentionHeads - 1}");
        hiddenStates ??= encoder.Forward(input, TraceRequest.HiddenStates).Trace;
        int L = config.NumHiddenLayers, n = input.Length;
        var result = Tensor.Zeros(L, n, n);
        for (int l = 0; l < L; l++)
        {
            var layerInput = l == 0 ? hiddenStates[TraceNames.EmbeddingsOutput] : hiddenStates[l - 1, LayerStep.Output];
            LayerMatrix(encoder, l, layerInput, input.AttentionMask, head, result.Data.AsSpan(l * n * n, n * n));
        }
        return result;
    }

    /// <summary>C_l [n, n] for one layer, written to <paramref name="destination"/>.</summary>
    public static void LayerMatrix(BertEncoder encoder, int layer, Tensor layerInput, int[]? attentionMask, int? head, Span<float> destination)
    {
        int n = layerInput.Shape[0], d = layerInput.Shape[1];
        int headDim = encoder.Config.HeadDim;
        var distances = new double[n * n];

        // Copy 0 is the unperturbed layer; copies 1..n zero token j = copy − 1. Chunks keep memory bounded.
        int copies = n + 1;
        int perCall = Math.Max(1, MaxRowsPerCall / n);
        Tensor? original = null;
        for (int first = 0; first < copies; first += perCall)
        {
            int count = Math.Min(perCall, copies - first);
            var inputs = new Tensor[count];
            var masks = new int[]?[count];
            var patches = new IActivationPatch?[count];
            for (int c = 0; c < count; c++)
            {
                int copy = first + c;
                inputs[c] = layerInput;
                masks[c] = attentionMask;
                patches[c] = copy == 0 ? null : new ZeroValueVectors(layer, copy - 1, head, headDim);
            }
            var outputs = encoder.RunLayer(layer, inputs, masks, patches).LastHiddenStates;
            for (int c = 0; c < count; c++)
            {
                int copy = first + c;
                if (copy == 0) { original = outputs[c]; continue; }
                int j = copy - 1;
                for (int i = 0; i < n; i++)
                    distances[i * n + j] = CosineDistance(outputs[c].Row(i), original!.Row(i));
            }
        }

        for (int i = 0; i < n; i++)
        {
            double sum = 0;
            for (int j = 0; j < n; j++) sum += distances[i * n + j];
            for (int j = 0; j < n; j++)
                destination[i * n + j] = sum > 0 ? (float)(distances[i * n + j] / sum) : 0f;
        }
    }

    /// <summary>1 − cos(a, b), computed as ½‖a/‖a‖ − b/‖b‖‖² in float64 (exact where 1 − cos would cancel).</summary>
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
}
