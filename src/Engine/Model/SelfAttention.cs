using MixLens.Engine.Tracing;
using MixLens.Kernels;

namespace MixLens.Engine.Model;

/// <summary>
/// Scaled dot-product attention, per text and per head (Vaswani et al. 2017, Eq. 1):
/// S_h = Q_h K_hᵀ / √d_head (+ −∞ on masked keys), A_h = softmax(S_h), context_h = A_h V_h.
/// Q, K, V and the context are packed [T, d] with head h in columns [h·d_head, (h+1)·d_head).
/// </summary>
internal static class SelfAttention
{
    /// <summary>Computes the merged context [T, d]; texts × heads run in parallel, each on its own n×n buffer.</summary>
    public static float[] Forward(int layer, float[] query, float[] key, float[] value, PackedBatch batch,
        int heads, int headDim, StepHooks hooks)
    {
        int d = heads * headDim;
        var context = new float[batch.TotalTokens * d];
        float scale = 1f / MathF.Sqrt(headDim);
        var scoreCaptures = hooks.PrepareHeadCaptures(layer, LayerStep.Scores);
        var probCaptures = hooks.PrepareHeadCaptures(layer, LayerStep.Probs);
        bool hookScores = hooks.WantsHeads(layer, LayerStep.Scores);
        bool hookProbs = hooks.WantsHeads(layer, LayerStep.Probs);
        int maxN = batch.MaxLength;

        Parallel.For(0, batch.Count * heads, () => new float[maxN * maxN], (index, _, buffer) =>
        {
            int s = index / heads, h = index % heads;
            int n = batch.Lengths[s];
            int offset = batch.Starts[s] * d + h * headDim;
            var scores = buffer.AsSpan(0, n * n);

            // S_h = Q_h K_hᵀ / √d_head                       [query_pos, key_pos]
            Gemm.MatMulNT(query.AsSpan(offset), d, key.AsSpan(offset), d, scores, n, n, n, headDim, parallel: false);
            System.Numerics.Tensors.TensorPrimitives.Multiply(scores, scale, scores);
            if (batch.KeyMasks[s] is { } keyMask) MaskKeys(scores, keyMask, n);
            if (hookScores) hooks.AfterHead(layer, LayerStep.Scores, s, h, scores, scoreCaptures);

            // A_h = softmax(S_h) over keys
            Softmax.Rows(scores, n, n);
            if (hookProbs) hooks.AfterHead(layer, LayerStep.Probs, s, h, scores, probCaptures);

            // context_h = A_h V_h                             [n, n] x [n, d_head] -> [n, d_head]
            Gemm.MatMulNN(scores, n, value.AsSpan(offset), d, context.AsSpan(offset), d, n, headDim, n, parallel: false);
            return buffer;
        }, _ => { });
        return context;
    }

    /// <summary>Sets S[i, j] = −∞ for every key j that is padding, so softmax gives it zero weight.</summary>
    static void MaskKeys(Span<float> scores, bool[] keyMask, int n)
    {
        for (int j = 0; j < n; j++)
        {
            if (keyMask[j]) continue;
            for (int i = 0; i < n; i++) scores[i * n + j] = float.NegativeInfinity;
        }
    }
}
