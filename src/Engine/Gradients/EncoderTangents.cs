using MixLens.Engine.Model;

namespace MixLens.Engine.Gradients;

/// <summary>
/// Forward-mode differentiation of the encoder (Jacobian-vector products): tangents of one text's
/// <c>embeddings.output</c> e⁰ pushed through every layer at a taped point (<see cref="EncoderLayer"/>'s <c>Tangent</c>).
/// B tangents run together as rows [B·n, ·] through the same GEMM kernels as the forward, so a batch of B tangents
/// costs about B forwards of the text. Used where a Jacobian is needed whole (Brunner et al.'s hidden token
/// attribution needs all n·d columns of ∂e^l/∂e⁰), which forward mode gets for every layer l in one sweep.
/// </summary>
public static class EncoderTangents
{
    /// <summary>Receives the tangents of a layer's output: layer l, and Ẏ [B·n, d] (row b·n + i = tangent b, token i;
    /// valid during the call only).</summary>
    public delegate void LayerTangents(int layer, float[] tangents);

    /// <summary>Pushes B tangents of e⁰ through all layers, calling <paramref name="onLayer"/> after each.</summary>
    /// <param name="forward">a taped forward of exactly one text of n tokens.</param>
    /// <param name="tangents">ė⁰ [B·n, d], row b·n + i = tangent b, token i; not modified.</param>
    /// <param name="count">B.</param>
    /// <exception cref="ArgumentException">the forward holds more than one text, or the tangents' length is not B·n·d.</exception>
    public static void Propagate(TapedForward forward, float[] tangents, int count, LayerTangents onLayer)
    {
        var encoder = forward.Encoder;
        using var call = encoder.BeginCall();
        var c = encoder.Config;
        if (forward.Count != 1) throw new ArgumentException($"tangents need a taped forward of one text, not {forward.Count}", nameof(forward));
        if (forward.Tape.FirstLayer != 0)
            throw new ArgumentException($"tangents of embeddings.output need a forward from layer 0, not from layer {forward.Tape.FirstLayer}", nameof(forward));
        int n = forward.Length(0), d = c.HiddenSize, rows = count * n;
        if (count < 1 || tangents.Length != (long)rows * d)
            throw new ArgumentException($"{tangents.Length} tangent values for {count} tangents of [{n}, {d}]", nameof(tangents));

        var ws = new TangentWorkspace(rows, n, d, c.IntermediateSize);
        var dX = tangents;
        var dY = new float[rows * d];
        var spare = new float[rows * d];
        for (int l = 0; l < c.NumHiddenLayers; l++)
        {
            // Ẋˡ = Layerₗ′(Ẋˡ⁻¹)
            EncoderLayer.Tangent(encoder.ForwardWeights(l), c, forward.Tape.Layers[l], n, count, dX, dY, ws);
            onLayer(l, dY);
            (dX, dY) = (dY, l == 0 ? spare : dX);
        }
    }
}
