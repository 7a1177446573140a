using MixLens.Engine;
using MixLens.Engine.Tracing;

namespace MixLens.Analysis.Methods;

/// <summary>
/// Raw attention weights as a context-mixing map: A_l[i, j], the attention probability of output token i on input
/// token j in layer l, per head or averaged over heads (the view of Clark et al. 2019, "What does BERT look at?";
/// the per-layer input of rollout and flow in Abnar &amp; Zuidema 2020).
/// </summary>
public static class RawAttention
{
    /// <summary>Per-head attention [L, H, n, n] from a trace holding every <c>layers.{l}.attention.probs</c>.</summary>
    /// <exception cref="KeyNotFoundException">the trace lacks a layer's probs.</exception>
    public static Tensor PerHead(Trace trace, int layers)
    {
        var first = trace[0, LayerStep.Probs];
        int h = first.Shape[0], n = first.Shape[1];
        var result = Tensor.Zeros(layers, h, n, n);
        for (int l = 0; l < layers; l++)
            trace[l, LayerStep.Probs].Data.CopyTo(result.Data, l * h * n * n);
        return result;
    }

    /// <summary>Head-mean attention Ā_l = (1/H) Σ_h A_{l,h}, [L, n, n] (<c>analysis.attention</c>).</summary>
    public static Tensor HeadMean(Trace trace, int layers)
    {
        var first = trace[0, LayerStep.Probs];
        int n = first.Shape[1];
        var result = Tensor.Zeros(layers, n, n);
        for (int l = 0; l < layers; l++)
            MeanOverHeads(trace[l, LayerStep.Probs], result.Data.AsSpan(l * n * n, n * n));
        return result;
    }

    /// <summary>Averages a [H, n, n] tensor over its first axis into <paramref name="destination"/> [n, n].</summary>
    public static void MeanOverHeads(Tensor probs, Span<float> destination)
    {
        int h = probs.Shape[0], nn = probs.Shape[1] * probs.Shape[2];
        var sum = new double[nn];
        for (int k = 0; k < h; k++)
        {
            var head = probs.Data.AsSpan(k * nn, nn);
            for (int e = 0; e < nn; e++) sum[e] += head[e];
        }
        for (int e = 0; e < nn; e++) destination[e] = (float)(sum[e] / h);
    }
}
