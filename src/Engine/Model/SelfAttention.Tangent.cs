using System.Numerics.Tensors;
using MixLens.Engine.Gradients;
using MixLens.Kernels;

namespace MixLens.Engine.Model;

internal static partial class SelfAttention
{
    /// <summary>
    /// The forward-mode derivative (Jacobian-vector product) of <see cref="Forward"/> for B tangents of one text of n
    /// tokens, stacked as rows [B·n, d] (row b·n + i = tangent b, token i), at the taped Q, K, V and probabilities:
    /// <code>
    ///   S_h = Q_h K_hᵀ / √d_head     →  Ṡ_h = (Q̇_h K_hᵀ + Q_h K̇_hᵀ) / √d_head             [n, n] per tangent
    ///   A_h = softmax(S_h)           →  Ȧ_h = A_h ⊙ (Ṡ_h − rowsum(A_h ⊙ Ṡ_h))     (0 where a patch replaced A)
    ///   context_h = A_h V_h          →  ċontext_h = Ȧ_h V_h + A_h V̇_h                       [n, d_head]
    /// </code>
    /// One task per head; within it, the products with the text's own K_h, V_h and Q_h run over all B tangents at once.
    /// </summary>
    public static void Tangent(LayerTape tape, int n, int tangents, float[] dQuery, float[] dKey, float[] dValue, float[] dContext,
        int heads, int headDim)
    {
        var job = new TangentJob(tape, n, tangents, dQuery, dKey, dValue, dContext, heads, headDim);
        Parallelism.For(heads, job);
    }

    sealed class TangentJob(LayerTape tape, int n, int tangents, float[] dQuery, float[] dKey, float[] dValue, float[] dContext,
        int heads, int headDim) : IParallelBody
    {
        [ThreadStatic] static float[]? t_dScores, t_keyTerm, t_product;

        public void Invoke(int h)
        {
            int dh = headDim, d = heads * dh, rows = tangents * n, column = h * dh;
            float scale = 1f / MathF.Sqrt(dh);
            var probs = tape.ProbsOf(0, h);
            var dScores = Scratch(ref t_dScores, rows * n);
            var keyTerm = Scratch(ref t_keyTerm, rows * n);
            var product = Scratch(ref t_product, n * dh);

            // Q̇_h K_hᵀ for all tangents                            [B·n, d_head] x [d_head, n] -> [B·n, n]
            Gemm.MatMulNT(dQuery.AsSpan(column), d, tape.Key.AsSpan(column), d, dScores, n, rows, n, dh, parallel: false);
            // Q_h K̇_hᵀ = (K̇_h Q_hᵀ)ᵀ per tangent
            Gemm.MatMulNT(dKey.AsSpan(column), d, tape.Query.AsSpan(column), d, keyTerm, n, rows, n, dh, parallel: false);
            for (int b = 0; b < tangents; b++)
            {
                var block = dScores.Slice(b * n * n, n * n);
                var other = keyTerm.Slice(b * n * n, n * n);
                for (int i = 0; i < n; i++)
                    for (int j = 0; j < n; j++) block[i * n + j] += other[j * n + i];
            }
            TensorPrimitives.Multiply(dScores, scale, dScores);

            // Ȧ_h = A_h ⊙ (Ṡ_h − rowsum(A_h ⊙ Ṡ_h)); Ȧ_h = 0 when a patch replaced A_h (an input of the patched forward)
            if (tape.ProbsPatched) dScores.Clear();
            else Softmax.Backward(probs, dScores, dScores, rows, n, n);

            // ċontext_h = Ȧ_h V_h + A_h V̇_h                         [B·n, n] x [n, d_head] -> [B·n, d_head]
            Gemm.MatMulNN(dScores, n, tape.Value.AsSpan(column), d, dContext.AsSpan(column), d, rows, dh, n, parallel: false);
            for (int b = 0; b < tangents; b++)
            {
                int offset = b * n * d + column;
                Gemm.MatMulNN(probs, n, dValue.AsSpan(offset), d, product, dh, n, dh, n, parallel: false);
                for (int i = 0; i < n; i++)
                {
                    var row = dContext.AsSpan(offset + i * d, dh);
                    TensorPrimitives.Add(row, product.Slice(i * dh, dh), row);
                }
            }
        }
    }
}
