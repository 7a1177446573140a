using System.Numerics.Tensors;
using MixLens.Kernels;

namespace MixLens.Engine.Model;

/// <summary>
/// The embedding block of every family (E = embedding width, d = hidden width):
/// <code>
/// e_t = LayerNorm(E_word[id_t] + E_type[type_t] + E_pos[p_t])     [E]   BERT, RoBERTa, ELECTRA
/// e_t = LayerNorm(E_word[id_t] + E_pos[p_t])                      [E]   DistilBERT (no token types)
/// x_t = e_t W_projᵀ + b_proj                                      [d]   ELECTRA with E ≠ d (embeddings_project)
/// x_t = e_t                                                               otherwise
/// </code>
/// p_t comes from the family's <see cref="PositionScheme"/> (0..n-1, or RoBERTa's padding_idx + 1 + t). The block's
/// output x is the trace's <c>embeddings.output</c> (after the projection). Sources: Devlin et al. 2019, §3.2; HF
/// <c>BertEmbeddings</c>, <c>RobertaEmbeddings</c>, DistilBERT <c>Embeddings</c>, <c>ElectraModel.embeddings_project</c>.
/// </summary>
internal static class EncoderEmbeddings
{
    /// <summary>Embeds every text of the batch into packed rows [T, d].</summary>
    public static float[] Forward(EmbeddingWeights w, EncoderConfig config, IReadOnlyList<EncoderInput> batch, PackedBatch packed)
    {
        int T = packed.TotalTokens, E = config.EmbeddingSize, d = config.HiddenSize;
        var word = w.Word.Span;
        var type = w.TokenType.Span;
        var position = w.Position.Span;
        bool hasTypes = !w.TokenType.IsEmpty;

        var e = new float[T * E];
        for (int s = 0; s < batch.Count; s++)
        {
            var input = batch[s];
            var positions = PositionIds.Of(config.PositionScheme, input.InputIds, config.PadTokenId);
            for (int t = 0; t < input.Length; t++)
            {
                var row = e.AsSpan((packed.Starts[s] + t) * E, E);
                // E_word[id] (+ E_type[type]), then + E_pos[p], in HF's order of additions
                if (hasTypes) TensorPrimitives.Add(word.Slice(input.InputIds[t] * E, E), type.Slice(input.TokenTypeIds[t] * E, E), row);
                else word.Slice(input.InputIds[t] * E, E).CopyTo(row);
                TensorPrimitives.Add(row, position.Slice(positions[t] * E, E), row);
            }
        }
        // e = LayerNorm(e)                                                               [T, E]
        LayerNorm.Forward(e, w.LayerNormWeight.Span, w.LayerNormBias.Span, config.LayerNormEps, e, T, E);
        if (!w.HasProjection) return e;

        // x = e W_projᵀ + b_proj                                                        [T, E] -> [T, d]
        return Dense.Forward(e, T, w.ProjectionWeight, w.ProjectionBias, d, E);
    }
}
