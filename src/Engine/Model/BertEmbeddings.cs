using MixLens.Kernels;

namespace MixLens.Engine.Model;

/// <summary>
/// The embedding block: x_t = LayerNorm(E_word[id_t] + E_type[type_t] + E_pos[p_t]), positions p_t = 0..n-1 in each
/// text (Devlin et al. 2019, §3.2; HF <c>BertEmbeddings</c>, absolute positions).
/// </summary>
internal static class BertEmbeddings
{
    /// <summary>Embeds every text of the batch into packed rows [T, d].</summary>
    public static float[] Forward(EmbeddingWeights w, EncoderConfig config, IReadOnlyList<EncoderInput> batch, PackedBatch packed)
    {
        int d = config.HiddenSize;
        var x = new float[packed.TotalTokens * d];
        var word = w.Word.Span;
        var type = w.TokenType.Span;
        var position = w.Position.Span;
        for (int s = 0; s < batch.Count; s++)
        {
            var input = batch[s];
            for (int p = 0; p < input.Length; p++)
            {
                var row = x.AsSpan((packed.Starts[s] + p) * d, d);
                // E_word[id] + E_type[type], then + E_pos[p], in HF's order of additions
                System.Numerics.Tensors.TensorPrimitives.Add(word.Slice(input.InputIds[p] * d, d), type.Slice(input.TokenTypeIds[p] * d, d), row);
                System.Numerics.Tensors.TensorPrimitives.Add(row, position.Slice(p * d, d), row);
            }
        }
        LayerNorm.Forward(x, w.LayerNormWeight.Span, w.LayerNormBias.Span, config.LayerNormEps, x, packed.TotalTokens, d);
        return x;
    }
}
