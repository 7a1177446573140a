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
internal static partial class EncoderEmbeddings
{
    /// <summary>Embeds every text of the batch into packed rows [T, d].</summary>
    /// <param name="wordRows">null, or per text null or its own word-embedding rows [n, E] used instead of E_word[id]
    /// (integrated gradients' interpolated inputs).</param>
    /// <param name="tape">null, or where to keep the sum before the LayerNorm and its statistics for the backward.</param>
    public static float[] Forward(EmbeddingWeights w, EncoderConfig config, IReadOnlyList<EncoderInput> batch, PackedBatch packed,
        IReadOnlyList<float[]?>? wordRows = null, Gradients.EmbeddingTape? tape = null)
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
            var ownWords = wordRows?[s];
            for (int t = 0; t < input.Length; t++)
            {
                var row = e.AsSpan((packed.Starts[s] + t) * E, E);
                var wordRow = ownWords is null ? word.Slice(input.InputIds[t] * E, E) : ownWords.AsSpan(t * E, E);
                // E_word[id] (+ E_type[type]), then + E_pos[p], in HF's order of additions
                if (hasTypes) TensorPrimitives.Add(wordRow, type.Slice(input.TokenTypeIds[t] * E, E), row);
                else wordRow.CopyTo(row);
                TensorPrimitives.Add(row, position.Slice(positions[t] * E, E), row);
            }
        }
        // e = LayerNorm(e)                                                               [T, E]
        if (tape is not null) e.CopyTo(tape.Sum, 0);
        LayerNorm.Forward(e, w.LayerNormWeight.Span, w.LayerNormBias.Span, config.LayerNormEps, e, T, E,
            tape is null ? default : tape.Mean, tape is null ? default : tape.Rstd);
        if (!w.HasProjection) return e;

        // x = e W_projᵀ + b_proj                                                        [T, E] -> [T, d]
        return Dense.Forward(e, T, w.ProjectionWeight, w.ProjectionBias, d, E);
    }
}
