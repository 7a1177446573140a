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
/// one thread while the head's scores are in cache (long texts in blocks of query rows, <see cref="QueryBlockRows"/>).
/// Texts are packed, so no work is spent on another text's tokens or on padding between texts. The scores and the packed Kᵀ_h and V_h live in per-thread scratch that grows to the
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
            // Query rows in blocks whose scores stay in L2 (rows are independent: each block is the same arithmetic
            // as the whole matrix). The hooks and the tape read a head's whole n×n matrix, so they get one block.
            int block = _hookScores || _hookProbs || _tape is not null ? n : QueryBlockRows(n);
            var scores = Scratch(ref t_scores, (long)block * n);
            var keys = Scratch(ref t_keys, Gemm.PackedSize(n, dh));
            var values = Scratch(ref t_values, Gemm.PackedSize(dh, n));
            Gemm.PackTransposed(_key.AsSpan(offset), d, n, dh, keys);
            Gemm.Pack(_value.AsSpan(offset), d, n, dh, values);
            for (int i0 = 0; i0 < n; i0 += block)
            {
                int rows = Math.Min(block, n - i0);
                var s_h = scores[..(rows * n)];
                int rowOffset = offset + i0 * d;

                // S_h = Q_h K_hᵀ / √d_head                   [rows, d_head] x [d_head, n] -> [query_pos, key_pos]
                Gemm.MatMulPacked(_query.AsSpan(rowOffset), d, keys, n, dh, s_h, n, rows, new GemmEpilogue { Alpha = _scale }, parallel: false);
                if (batch.KeyMasks[s] is { } keyMask) MaskKeys(s_h, keyMask, rows, n);
                if (_hookScores) _hooks!.AfterHead(_layer, LayerStep.Scores, s, h, s_h, _scoreCaptures);

                // A_h = softmax(S_h) over keys
                Softmax.Rows(s_h, rows, n);
                if (_hookProbs) _hooks!.AfterHead(_layer, LayerStep.Probs, s, h, s_h, _probCaptures);
                _tape?.SaveProbs(s, h, s_h);

                // context_h = A_h V_h                         [rows, n] x [n, d_head] -> [rows, d_head]
                Gemm.MatMulPacked(s_h, n, values, dh, n, _context.AsSpan(rowOffset), d, rows, parallel: false);
            }
        }

        static Span<float> Scratch(ref float[]? buffer, long length)
        {
            if (buffer is null || buffer.Length < length) buffer = GC.AllocateUninitializedArray<float>((int)length);
            return buffer.AsSpan(0, (int)length);
        }
    }

    /// <summary>Sets S[i, j] = −∞ for every key j that is padding, so softmax gives it zero weight (S: [rows, n]).</summary>
    static void MaskKeys(Span<float> scores, bool[] keyMask, int rows, int n)
    {
        for (int j = 0; j < n; j++)
        {
            if (keyMask[j]) continue;
            for (int i = 0; i < rows; i++) scores[i * n + j] = float.NegativeInfinity;
        }
    }

    /// <summary>
    /// Query rows per block of a head's attention: the whole text while its n×n scores take at most a quarter of L2
    /// (<see cref="CacheSizes.L2"/>; 512 KiB: n ≤ 181), else as many rows as fit there, in whole GEMM row tiles of 6.
    /// The scores of a block are written by Q Kᵀ, read and rewritten by the softmax and read by A V, so from L2 instead
    /// of L3 (all-MiniLM-L6-v2 at n = 512: a 1 MiB matrix per head and layer, 72 of them per forward).
    /// </summary>
    internal static int QueryBlockRows(int n)
    {
        long fit = CacheSizes.L2 / 4 / ((long)Math.Max(n, 1) * sizeof(float));
        return fit >= n ? Math.Max(n, 1) : (int)Math.Max(6, fit / 6 * 6);
    }
}
