using MixLens.Engine.Gradients;
using MixLens.Kernels;

namespace MixLens.Engine.Model;

internal static partial class EncoderEmbeddings
{
    /// <summary>
    /// The backward of <see cref="Forward"/>: from dx = ∂ℓ/∂(embeddings.output) [T, d] to the gradient at the sum
    /// E_word[id] + E_type[type] + E_pos[p] [T, E], which is also the gradient at each word-embedding row x_j (the sum's
    /// partial derivative with respect to each term is the identity):
    /// <code>
    ///   x = e W_projᵀ + b_proj     →  de = dx W_proj         [T, d] x [d, E] -> [T, E]   (ELECTRA with E ≠ d)
    ///   e = LayerNorm(sum)         →  dsum = LayerNormᵀ(de)
    /// </code>
    /// </summary>
    public static float[] Backward(EmbeddingWeights w, EncoderConfig config, EmbeddingTape tape, float[] dOutput, int tokens)
    {
        int E = config.EmbeddingSize, d = config.HiddenSize;
        var de = dOutput;
        if (w.HasProjection)
        {
            de = new float[tokens * E];
            Gemm.MatMulNN(dOutput.AsSpan(0, tokens * d), d, w.ProjectionWeight.Span, E, de, E, tokens, E, d);
        }
        var dSum = new float[tokens * E];
        LayerNorm.Backward(tape.Sum, tape.Mean, tape.Rstd, w.LayerNormWeight.Span, de.AsSpan(0, tokens * E), dSum, tokens, E);
        return dSum;
    }
}
