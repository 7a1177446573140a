using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Engine.Gradients;

/// <summary>
/// One layer's Linear weights packed for the backward: a Linear y = x Wᵀ + b sends the gradient dy back as
/// dx = dy W, so B is W itself, [out, in] read as [k, n]. Built once per encoder on the first backward
/// (<see cref="BertEncoder"/>), a second packed copy of the layer weights.
/// <code>
///   Query, Key, Value, AttentionOutput   B = W      [d, d]
///   Intermediate                         B = W_in   [f, d]   dX₁ = dU W_in
///   Output                               B = W_out  [d, f]   dIntermediate = dResidual₂ W_out
/// </code>
/// </summary>
internal sealed class BackwardLayerWeights
{
    public required PackedMatrix Query { get; init; }
    public required PackedMatrix Key { get; init; }
    public required PackedMatrix Value { get; init; }
    public required PackedMatrix AttentionOutput { get; init; }
    public required PackedMatrix Intermediate { get; init; }
    public required PackedMatrix Output { get; init; }

    public static BackwardLayerWeights Pack(LayerWeights w, EncoderConfig c)
    {
        int d = c.HiddenSize, f = c.IntermediateSize;
        return new BackwardLayerWeights
        {
            Query = PackedMatrix.From(w.QueryWeight.Span, d, d),
            Key = PackedMatrix.From(w.KeyWeight.Span, d, d),
            Value = PackedMatrix.From(w.ValueWeight.Span, d, d),
            AttentionOutput = PackedMatrix.From(w.AttentionOutputWeight.Span, d, d),
            Intermediate = PackedMatrix.From(w.IntermediateWeight.Span, f, d),
            Output = PackedMatrix.From(w.OutputWeight.Span, d, f),
        };
    }
}
