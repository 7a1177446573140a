using MixLens.Engine.Tracing;
using MixLens.Kernels;

namespace MixLens.Engine.Model;

/// <summary>
/// Scaled dot-product attention, per text and per head (Vaswani et al. 2017, Eq. 1):
/// S_h = Q_h K_hᵀ / √d_head (+ −∞ on masked keys), A_h = softmax(S_h), context_h = A_h V_h.
/// Q, K, V and the context are packed [T, d] with head h in columns [h·d_head, (h+1)·d_head).
/// </summary>
/// <remarks>
/// One task per (text, head) on <see cref="Parallelism.For"/>: scores, masked softmax and context run back to back on
/// one thread while the head's n×n matrix is in cache. Texts are packed, so no work is spent on another text's tokens or
/// on padding between texts. The n×n matrix and the packed Kᵀ_h and V_h live in per-thread scratch that grows to the
/// longest text seen and is then reused, so a forward allocates nothing here unless the trace asks for scores or probs.
/// </remarks>
internal static partial class SelfAttention
{
    /// <summary>Writes the merged context [T, d] of every text and head into <paramref name="context"/>.</summary>
    public static void Forward(int layer, float[] query, float[] key, float[] value, float[] context, PackedBatch batch,
        int heads, int headDim, StepHooks hooks, Job job, Gradients.LayerTape? tape = null)
    {
        job.Set(layer, query, key, value, context, batch, heads, headDim, hooks, tape);
        try { Parallelism.For(batch.Count * heads, job); }
        finally { job.Clear(); }
    }

    /// <summary>The loop body over (text, head); one reusable instance per workspace.</summary>
    internal sealed class Job : IParallelBody
    {
        [ThreadStatic] static float[]? t_scores, t_keys, t_values;

        int _layer, _heads, _headDim;
        float _scale;
        float[] _query = [], _key = [], _value = [], _context = [];
        PackedBatch? _batch;
        StepHooks? _hooks;
        Tensor?[]? _scoreCaptures, _probCaptures;
        bool _hookScores, _hookProbs;
        Gradients.LayerTape? _tape;

        public void Set(int layer, float[] query, float[] key, float[] value, float[] context, PackedBatch batch, int heads,
            int headDim, StepHooks hooks, Gradients.LayerTape? tape = null)
        {
            _tape = tape;
            (_layer, _query, _key, _value, _context, _batch, _heads, _headDim, _hooks) =
                (layer, query, key, value, context, batch, heads, headDim, hooks);
            _scale = 1f / MathF.Sqrt(headDim);
            _scoreCaptures = hooks.PrepareHeadCaptures(layer, LayerStep.Scores);
            _probCaptures = hooks.PrepareHeadCaptures(layer, LayerStep.Probs);
            _hookScores = hooks.Wants(layer, LayerStep.Scores);
            _hookProbs = hooks.Wants(layer, LayerStep.Probs);
        }

        public void Clear() => (_query, _key, _value, _context, _batch, _hooks, _scoreCaptures, _probCaptures, _tape) = ([], [], [], [], null, null, null, null, null);

        public void Invoke(int index)
        {
            var batch = _batch!;
            int s = index / _heads, h = index % _heads;
            int n = batch.Lengths[s], dh = _headDim, d = _heads * dh;
            int offset = batch.Starts[s] * d + h * dh;
            var scores = Scratch(ref t_scores, n * n);
            var keys = Scratch(ref t_keys, Gemm.PackedSize(n, dh));
            var values = Scratch(ref t_values, Gemm.PackedSize(dh, n));

            // S_h = Q_h K_hᵀ / √d_head                       [n, d_head] x [d_head, n] -> [query_pos, key_pos]
            Gemm.PackTransposed(_key.AsSpan(offset), d, n, dh, keys);
            Gemm.MatMulPacked(_query.AsSpan(offset), d, keys, n, dh, scores, n, n, new GemmEpilogue { Alpha = _scale }, parallel: false);
            if (batch.KeyMasks[s] is { } keyMask) MaskKeys(scores, keyMask, n);
            if (_hookScores) _hooks!.AfterHead(_layer, LayerStep.Scores, s, h, scores, _scoreCaptures);

            // A_h = softmax(S_h) over keys
            Softmax.Rows(scores, n, n);
            if (_hookProbs) _hooks!.AfterHead(_layer, LayerStep.Probs, s, h, scores, _probCaptures);
            _tape?.SaveProbs(s, h, scores);

            // context_h = A_h V_h                             [n, n] x [n, d_head] -> [n, d_head]
            Gemm.Pack(_value.AsSpan(offset), d, n, dh, values);
            Gemm.MatMulPacked(scores, n, values, dh, n, _context.AsSpan(offset), d, n, parallel: false);
        }

        static Span<float> Scratch(ref float[]? buffer, long length)
        {
            if (buffer is null || buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>((int)length);
            return buffer.AsSpan(0, (int)length);
        }
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
