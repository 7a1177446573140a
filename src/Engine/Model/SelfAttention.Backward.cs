using MixLens.Engine.Gradients;
using MixLens.Kernels;

namespace MixLens.Engine.Model;

internal static partial class SelfAttention
{
    /// <summary>
    /// The backward of <see cref="Forward"/>, per text and head, from the taped Q, K, V and probabilities:
    /// <code>
    ///   context_h = A_h V_h          →  dA_h = dcontext_h V_hᵀ            [n, n]
    ///                                   dV_h = A_hᵀ dcontext_h            [n, d_head]
    ///   A_h = softmax(S_h)           →  dS_h = A_h ⊙ (dA_h − rowsum(dA_h ⊙ A_h))     (0 where a patch replaced A)
    ///   S_h = Q_h K_hᵀ / √d_head     →  dQ_h = dS_h K_h / √d_head,   dK_h = dS_hᵀ Q_h / √d_head
    /// </code>
    /// Writes dQ, dK, dV [T, d] (head h in columns [h·d_head, (h+1)·d_head)); when <paramref name="probsGradient"/> is
    /// given, also dA of every head, laid out as <see cref="LayerTape.Probs"/>.
    /// </summary>
    public static void Backward(LayerTape tape, float[] dContext, float[] dQuery, float[] dKey, float[] dValue, PackedBatch batch,
        int heads, int headDim, float[]? probsGradient)
    {
        var job = new BackwardJob(tape, dContext, dQuery, dKey, dValue, batch, heads, headDim, probsGradient);
        Parallelism.For(batch.Count * heads, job);
    }

    sealed class BackwardJob(LayerTape tape, float[] dContext, float[] dQuery, float[] dKey, float[] dValue, PackedBatch batch,
        int heads, int headDim, float[]? probsGradient) : IParallelBody
    {
        [ThreadStatic] static float[]? t_dProbs, t_transposed, t_packed;

        public void Invoke(int index)
        {
            int s = index / heads, h = index % heads;
            int n = batch.Lengths[s], dh = headDim, d = heads * dh;
            int offset = batch.Starts[s] * d + h * dh;
            float scale = 1f / MathF.Sqrt(dh);
            var probs = tape.ProbsOf(s, h);
            var dProbs = Scratch(ref t_dProbs, n * n);
            var transposed = Scratch(ref t_transposed, n * n);
            // each right-hand operand below is packed into panels first (n x d_head floats, a copy), as the forward does
            // with K and V, so all four products run on the packed micro-kernels
            var packed = Scratch(ref t_packed, (int)Math.Max(Gemm.PackedSize(n, dh), Gemm.PackedSize(dh, n)));

            // dA_h = dcontext_h V_hᵀ                       [n, d_head] x [d_head, n] -> [n, n]
            Gemm.PackTransposed(tape.Value.AsSpan(offset), d, n, dh, packed);
            Gemm.MatMulPacked(dContext.AsSpan(offset), d, packed, n, dh, dProbs, n, n, parallel: false);
            if (probsGradient is not null) dProbs.CopyTo(probsGradient.AsSpan(tape.ProbsStart(s) + h * n * n, n * n));

            // dV_h = A_hᵀ dcontext_h                        [n, n] x [n, d_head] -> [n, d_head]
            VectorOps.Transpose(probs, n, n, transposed);
            Gemm.Pack(dContext.AsSpan(offset), d, n, dh, packed);
            Gemm.MatMulPacked(transposed, n, packed, dh, n, dValue.AsSpan(offset), d, n, parallel: false);

            // dS_h = A_h ⊙ (dA_h − rowsum(dA_h ⊙ A_h)), times 1/√d_head for the scaling of S_h; dS_h = 0 when a patch
            // replaced A_h (an input of the patched forward; the softmax Jacobian at patched values would mean nothing)
            if (tape.ProbsPatched)
            {
                dProbs.Clear();
            }
            else
            {
                Softmax.Backward(probs, dProbs, dProbs, n, n, n);
                System.Numerics.Tensors.TensorPrimitives.Multiply(dProbs, scale, dProbs);
            }

            // dQ_h = dS_h K_h,   dK_h = dS_hᵀ Q_h           [n, n] x [n, d_head] -> [n, d_head]
            Gemm.Pack(tape.Key.AsSpan(offset), d, n, dh, packed);
            Gemm.MatMulPacked(dProbs, n, packed, dh, n, dQuery.AsSpan(offset), d, n, parallel: false);
            VectorOps.Transpose(dProbs, n, n, transposed);
            Gemm.Pack(tape.Query.AsSpan(offset), d, n, dh, packed);
            Gemm.MatMulPacked(transposed, n, packed, dh, n, dKey.AsSpan(offset), d, n, parallel: false);
        }

    }

    /// <summary>
    /// The backward of the first-token attention of <see cref="EncoderLayer.ForwardFirstTokens"/>, per text and head
    /// (see <see cref="EncoderLayer.BackwardFirstTokens"/> for the equations): writes dq₀ [B, d], and dK, dV [T, d]
    /// (every row; outer products of the first token's row with dS₀ and a₀).
    /// </summary>
    /// <param name="probsGradient">null, or receives ∂ℓ/∂A of every head in the layout of <see cref="LayerTape.Probs"/>
    /// (<paramref name="probsOffsets"/>): dA₀,h in row 0, zero in every other row (those rows of A reach no output
    /// the gradient is taken of). Must be zero on entry.</param>
    public static void BackwardFirstTokens(FirstTokenLayerTape tape, float[] dContext, float[] dQuery, float[] dKey, float[] dValue,
        PackedBatch batch, int heads, int headDim, float[]? probsGradient = null, int[]? probsOffsets = null)
    {
        int dh = headDim, d = heads * dh, longest = batch.MaxLength;
        float scale = 1f / MathF.Sqrt(dh);
        var dProbs = new float[longest];
        var dScores = new float[longest];
        var packed = new float[Math.Max(Gemm.PackedSize(longest, dh), Gemm.PackedSize(dh, longest))];
        for (int s = 0; s < batch.Count; s++)
        {
            int n = batch.Lengths[s], start = batch.Starts[s];
            for (int h = 0; h < heads; h++)
            {
                int offset = start * d + h * dh;
                var probs = tape.ProbsOf(s, h);                                // a₀,h [n]
                var dContext0 = dContext.AsSpan(s * d + h * dh, dh);          // dcontext₀,h [d_head]
                var query0 = tape.Query.AsSpan(s * d + h * dh, dh);           // q₀,h [d_head]

                // dA₀,h = dcontext₀,h V_hᵀ                       [1, d_head] x [d_head, n] -> [1, n]
                Gemm.PackTransposed(tape.Value.AsSpan(offset), d, n, dh, packed);
                Gemm.MatMulPacked(dContext0, dh, packed, n, dh, dProbs, n, 1, parallel: false);
                if (probsGradient is not null) dProbs.AsSpan(0, n).CopyTo(probsGradient.AsSpan(probsOffsets![s] + h * n * n, n));

                // dV_h[j] = a₀,h[j] dcontext₀,h                   [n, d_head]
                for (int j = 0; j < n; j++)
                    System.Numerics.Tensors.TensorPrimitives.Multiply(dContext0, probs[j], dValue.AsSpan(offset + j * d, dh));

                // dS₀,h = a₀,h ⊙ (dA₀,h − rowsum(dA₀,h ⊙ a₀,h)) / √d_head
                Softmax.Backward(probs, dProbs.AsSpan(0, n), dScores.AsSpan(0, n), 1, n, 1);
                System.Numerics.Tensors.TensorPrimitives.Multiply(dScores.AsSpan(0, n), scale, dScores.AsSpan(0, n));

                // dq₀,h = dS₀,h K_h                                [1, n] x [n, d_head] -> [1, d_head]
                Gemm.Pack(tape.Key.AsSpan(offset), d, n, dh, packed);
                Gemm.MatMulPacked(dScores, n, packed, dh, n, dQuery.AsSpan(s * d + h * dh), d, 1, parallel: false);

                // dK_h[j] = dS₀,h[j] q₀,h                          [n, d_head]
                for (int j = 0; j < n; j++)
                    System.Numerics.Tensors.TensorPrimitives.Multiply(query0, dScores[j], dKey.AsSpan(offset + j * d, dh));
            }
        }
    }

    static Span<float> Scratch(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>(length);
        return buffer.AsSpan(0, length);
    }
}
