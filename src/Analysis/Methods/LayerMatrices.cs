using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;

namespace MixLens.Analysis.Methods;

/// <summary>What the per-layer methods share: reading a layer's input from a trace, and stacking one [n, n] matrix per layer.</summary>
public static class LayerMatrices
{
    /// <summary>Writes the [n, n] matrix of <paramref name="layer"/> (row i = output token, column j = input token).</summary>
    public delegate void LayerMatrixWriter(EncoderConfig config, LayerWeights weights, Trace trace, int layer, Span<float> destination);

    /// <summary>x_j, the input of layer <paramref name="layer"/> [n, d]: <c>embeddings.output</c> or the previous layer's output.</summary>
    public static Tensor LayerInput(Trace trace, int layer) =>
        layer == 0 ? trace[TraceNames.EmbeddingsOutput] : trace[layer - 1, LayerStep.Output];

    /// <summary>Runs <paramref name="layerMatrix"/> for every layer of an n-token text into one [L, n, n] tensor.</summary>
    public static Tensor Stack(BertEncoder encoder, Trace trace, int n, LayerMatrixWriter layerMatrix)
    {
        using var call = encoder.BeginCall();   // the layer matrices read the weights
        int L = encoder.Config.NumHiddenLayers;
        var result = Tensor.Zeros(L, n, n);
        for (int l = 0; l < L; l++)
            layerMatrix(encoder.Config, encoder.Weights.Layers[l], trace, l, result.Data.AsSpan(l * n * n, n * n));
        return result;
    }
}
