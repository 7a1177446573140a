using MixLens.Kernels;

namespace MixLens.Engine.Model;

/// <summary>
/// One layer's Linear weights packed once for the GEMM (<see cref="PackedMatrix"/>, MLAS-style "pack B at load"), built
/// from the memory-mapped <see cref="LayerWeights"/>. Packing is the only copy of the weights; the biases and LayerNorm
/// parameters are read from <see cref="Source"/> in place.
/// <code>
///   Query, Key, Value, AttentionOutput   W [d, d]   packed from HF [out, in]
///   Intermediate                         W_in [f, d]
///   Output                               W_out [d, f]
/// </code>
/// </summary>
internal sealed class PackedLayerWeights
{
    public required LayerWeights Source { get; init; }
    public required PackedMatrix Query { get; init; }
    public required PackedMatrix Key { get; init; }
    public required PackedMatrix Value { get; init; }
    public required PackedMatrix AttentionOutput { get; init; }
    public required PackedMatrix Intermediate { get; init; }
    public required PackedMatrix Output { get; init; }

    public static PackedLayerWeights Pack(LayerWeights w, EncoderConfig c)
    {
        int d = c.HiddenSize, f = c.IntermediateSize;
        return new PackedLayerWeights
        {
            Source = w,
            Query = PackedMatrix.FromTransposed(w.QueryWeight.Span, d, d),
            Key = PackedMatrix.FromTransposed(w.KeyWeight.Span, d, d),
            Value = PackedMatrix.FromTransposed(w.ValueWeight.Span, d, d),
            AttentionOutput = PackedMatrix.FromTransposed(w.AttentionOutputWeight.Span, d, d),
            Intermediate = PackedMatrix.FromTransposed(w.IntermediateWeight.Span, f, d),
            Output = PackedMatrix.FromTransposed(w.OutputWeight.Span, d, f),
        };
    }
}
