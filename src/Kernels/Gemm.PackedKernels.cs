using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

public static unsafe partial class Gemm
{
    /// <summary>
    /// Micro-kernels of the packed GEMM (<see cref="MatMul(ReadOnlySpan{float}, int, PackedMatrix, Span{float}, int, int, in GemmEpilogue, bool)"/>).
    /// One source for every ISA and row count: generic over the vector ops <c>TOps</c> and a row count <c>TRows</c>
    /// (a struct constant, so the JIT compiles one copy per instantiation with unused rows removed).
    /// <code>
    ///   Vector512:  6 rows × 32 columns = 12 zmm accumulators + 2 panel vectors + 1 broadcast (up to 12 rows fit)
    ///   Vector256: up to  6 rows × 16 columns = 12 ymm accumulators + 3 (of 16; AVX2 without AVX-512)
    ///   Vector128: up to  6 rows ×  8 columns = 12 xmm accumulators + 3 (of 16)
    /// </code>
    /// A panel is as wide as the widest detected path's tile (<see cref="PanelWidth"/>: 32 with AVX-512, else 16); a
    /// narrower kernel covers it in column steps (Vector256 on a 32-wide panel: 2; Vector128: 2 or 4). Each element of
    /// C is one chain of FMAs over p in order (K blocks added in order), so a result does not depend on the row count, column step, thread or vector
    /// width it was computed with (the scalar path multiplies and adds without fusing).
    /// </summary>
    internal static class PackedKernels
    {
        /// <summary>Steps of p after which a tile adds its accumulators into C (bounds the length of float32 sums).</summary>
        public const int KSub = 64;

        /// <summary>What a tile does after its K loop: add C (later K blocks), and on the last block the epilogue.</summary>
        public readonly struct WriteBack(bool accumulate, bool final, float alpha, float* bias, float* residual, nint ldr,
            NextPanelPrefetch* prefetch = null)
        {
            /// <summary>The next panel's prefetch, stepped once per <see cref="KSub"/> steps of p; or null.</summary>
            public readonly NextPanelPrefetch* Prefetch = prefetch;
            /// <summary>Add the tile to C (a K block after the first) instead of overwriting it.</summary>
            public readonly bool Accumulate = accumulate;
            /// <summary>Last K block: apply alpha, bias and residual.</summary>
            public readonly bool Final = final;
            public readonly float Alpha = alpha;
            /// <summary>Bias at the tile's first column, or null.</summary>
            public readonly float* Bias = bias;
            /// <summary>Residual at the tile's first row and column, or null.</summary>
            public readonly float* Residual = residual;
            public readonly nint Ldr = ldr;
        }

        /// <summary>The write-back of a tile's last 64 steps of its last K block: v = (accumulate ? C + acc : acc),
        /// then v = alpha·v + bias + residual; C = v. (Earlier partial sums: <see cref="StorePartialRow"/>.)</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void WriteRow<TV, TOps>(float* c, int row, TV v0, TV v1, in WriteBack wb) where TV : struct where TOps : struct, ISimdOps<TV>
        {
            int w = TOps.Count;
            if (wb.Accumulate)
            {
                v0 = TOps.Add(TOps.Load(c), v0);
                v1 = TOps.Add(TOps.Load(c + w), v1);
            }
            if (wb.Alpha != 1f)
            {
                v0 = TOps.Multiply(v0, TOps.Create(wb.Alpha));
                v1 = TOps.Multiply(v1, TOps.Create(wb.Alpha));
            }
            if (wb.Bias != null)
            {
                v0 = TOps.Add(v0, TOps.Load(wb.Bias));
                v1 = TOps.Add(v1, TOps.Load(wb.Bias + w));
            }
            if (wb.Residual != null)
            {
                float* r = wb.Residual + row * wb.Ldr;
                v0 = TOps.Add(v0, TOps.Load(r));
                v1 = TOps.Add(v1, TOps.Load(r + w));
            }
            TOps.Store(c, v0);
            TOps.Store(c + w, v1);
        }

        /// <summary>C[r, :] = C[r, :] + v (or v, the first partial sums of a call that overwrites C).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void StorePartialRow<TV, TOps>(float* c, TV v0, TV v1, bool accumulate) where TV : struct where TOps : struct, ISimdOps<TV>
        {
            int w = TOps.Count;
            if (accumulate)
            {
                v0 = TOps.Add(TOps.Load(c), v0);
                v1 = TOps.Add(TOps.Load(c + w), v1);
            }
            TOps.Store(c, v0);
            TOps.Store(c + w, v1);
        }

        /// <summary>
        /// Asks for the tile's lines of C (rows × 2 vectors, every 64-byte line of each row) before its first 64 steps,
        /// so that the first write-back does not wait on them: a tile that overwrites C finds them in L3 or memory
        /// when C is larger than L2 (a 2048-row batch: all-MiniLM-L6-v2's FFN output is 12 MB).
        /// <para>Measured on Zen 3 (Vector256), with and without it alternating sample by sample in one process, one
        /// thread: M = 2048 384×384 1.05–1.06×, 384×1536 1.05, 1536×384 1.01–1.03, 768×768 1.02; M = 4096 1.02; M = 128
        /// level (0.99–1.01).</para>
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void PrefetchTileOfC<TV, TOps>(float* c, nint ldc, int rows) where TV : struct where TOps : struct, ISimdOps<TV>
        {
            if (!Sse.IsSupported) return;
            int width = 2 * TOps.Count;
            for (int r = 0; r < rows; r++)
            {
                float* row = c + r * ldc;
                for (int j = 0; j < width; j += 16) Sse.Prefetch0(row + j);
                Sse.Prefetch0(row + width - 1);
            }
        }

        /// <summary>One step of p: C[r, :] += A[r, p] · panel[p, :] for the tile's rows (one broadcast, two FMAs per row).</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        static void Step<TV, TOps, TRows>(float* b, float* a0, float* a1, float* a2, float* a3, float* a4, float* a5, nint p,
            ref TV c00, ref TV c01, ref TV c10, ref TV c11, ref TV c20, ref TV c21,
            ref TV c30, ref TV c31, ref TV c40, ref TV c41, ref TV c50, ref TV c51)
            where TV : struct where TOps : struct, ISimdOps<TV> where TRows : struct, IConstant
        {
            TV b0 = TOps.Load(b), b1 = TOps.Load(b + TOps.Count);
            if (TRows.Value > 0) { TV v = TOps.Create(a0[p]); c00 = TOps.MultiplyAdd(v, b0, c00); c01 = TOps.MultiplyAdd(v, b1, c01); }
            if (TRows.Value > 1) { TV v = TOps.Create(a1[p]); c10 = TOps.MultiplyAdd(v, b0, c10); c11 = TOps.MultiplyAdd(v, b1, c11); }
            if (TRows.Value > 2) { TV v = TOps.Create(a2[p]); c20 = TOps.MultiplyAdd(v, b0, c20); c21 = TOps.MultiplyAdd(v, b1, c21); }
            if (TRows.Value > 3) { TV v = TOps.Create(a3[p]); c30 = TOps.MultiplyAdd(v, b0, c30); c31 = TOps.MultiplyAdd(v, b1, c31); }
            if (TRows.Value > 4) { TV v = TOps.Create(a4[p]); c40 = TOps.MultiplyAdd(v, b0, c40); c41 = TOps.MultiplyAdd(v, b1, c41); }
            if (TRows.Value > 5) { TV v = TOps.Create(a5[p]); c50 = TOps.MultiplyAdd(v, b0, c50); c51 = TOps.MultiplyAdd(v, b1, c51); }
        }

        /// <summary>
        /// TRows × (2 vectors) of C from a packed panel: for p in [0, k): C[r, :] += A[r, p] · panel[p, :]
        /// (<see cref="Step"/>, four steps per loop iteration), the next panel's prefetch stepped
        /// (<see cref="WriteBack.Prefetch"/>) before and the sums written back after every <see cref="KSub"/> steps of p,
        /// so each element of C is a sum of partial sums of at most 64 products (float32 error like the old 16-lane dot
        /// products, not that of a 1536-term chain); the tile stays in L1 meanwhile (its lines asked for first,
        /// <see cref="PrefetchTileOfC"/>). Partial sums are added into C (<see cref="StorePartialRow"/>); the last 64 steps
        /// of the last K block go through the epilogue (<see cref="WriteRow"/>). Rows beyond TRows compile away.
        /// <para>Against the loop of one step per iteration with every write-back through <see cref="WriteRow"/> (bit for
        /// bit the same results), alternating round by round in one process on Zen 3 (Vector256): operands in L1,
        /// K = 384, 1.07 and 1.13 (medians of 100 rounds); the whole GEMM 1.03–1.08 at M = 128 and 1.03–1.05 at M = 2048
        /// on the encoder's shapes; an all-MiniLM-L6-v2 forward 1.02–1.03 (bench/RESULTS.md, 2026-12-08).</para>
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public static void Tile<TV, TOps, TRows>(float* a, nint lda, float* b, int k, float* c, nint ldc, in WriteBack wb)
            where TV : struct where TOps : struct, ISimdOps<TV> where TRows : struct, IConstant
        {
            float* a0 = a;
            float* a1 = a0 + lda;
            float* a2 = a1 + lda;
            float* a3 = a2 + lda;
            float* a4 = a3 + lda;
            float* a5 = a4 + lda;
            bool accumulate = wb.Accumulate;
            NextPanelPrefetch* prefetch = wb.Prefetch;
            PrefetchTileOfC<TV, TOps>(c, ldc, TRows.Value);
            nint step = PanelWidth;
            for (int p0 = 0; ; p0 += KSub)
            {
                int pEnd = Math.Min(k, p0 + KSub);
                if (prefetch != null) prefetch->Step();
                TV c00 = TOps.Zero, c01 = TOps.Zero;
                TV c10 = TOps.Zero, c11 = TOps.Zero;
                TV c20 = TOps.Zero, c21 = TOps.Zero;
                TV c30 = TOps.Zero, c31 = TOps.Zero;
                TV c40 = TOps.Zero, c41 = TOps.Zero;
                TV c50 = TOps.Zero, c51 = TOps.Zero;
                nint p = p0;
                for (; p <= pEnd - 4; p += 4, b += 4 * step)
                {
                    Step<TV, TOps, TRows>(b, a0, a1, a2, a3, a4, a5, p, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
                    Step<TV, TOps, TRows>(b + step, a0, a1, a2, a3, a4, a5, p + 1, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
                    Step<TV, TOps, TRows>(b + 2 * step, a0, a1, a2, a3, a4, a5, p + 2, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
                    Step<TV, TOps, TRows>(b + 3 * step, a0, a1, a2, a3, a4, a5, p + 3, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);
                }
                for (; p < pEnd; p++, b += step)
                    Step<TV, TOps, TRows>(b, a0, a1, a2, a3, a4, a5, p, ref c00, ref c01, ref c10, ref c11, ref c20, ref c21, ref c30, ref c31, ref c40, ref c41, ref c50, ref c51);

                if (pEnd < k || !wb.Final)
                {
                    if (TRows.Value > 0) StorePartialRow<TV, TOps>(c + 0 * ldc, c00, c01, accumulate);
                    if (TRows.Value > 1) StorePartialRow<TV, TOps>(c + 1 * ldc, c10, c11, accumulate);
                    if (TRows.Value > 2) StorePartialRow<TV, TOps>(c + 2 * ldc, c20, c21, accumulate);
                    if (TRows.Value > 3) StorePartialRow<TV, TOps>(c + 3 * ldc, c30, c31, accumulate);
                    if (TRows.Value > 4) StorePartialRow<TV, TOps>(c + 4 * ldc, c40, c41, accumulate);
                    if (TRows.Value > 5) StorePartialRow<TV, TOps>(c + 5 * ldc, c50, c51, accumulate);
                    accumulate = true;
                    if (pEnd >= k) break;
                    continue;
                }
                var last = new WriteBack(accumulate, true, wb.Alpha, wb.Bias, wb.Residual, wb.Ldr);
                if (TRows.Value > 0) WriteRow<TV, TOps>(c + 0 * ldc, 0, c00, c01, last);
                if (TRows.Value > 1) WriteRow<TV, TOps>(c + 1 * ldc, 1, c10, c11, last);
                if (TRows.Value > 2) WriteRow<TV, TOps>(c + 2 * ldc, 2, c20, c21, last);
                if (TRows.Value > 3) WriteRow<TV, TOps>(c + 3 * ldc, 3, c30, c31, last);
                if (TRows.Value > 4) WriteRow<TV, TOps>(c + 4 * ldc, 4, c40, c41, last);
                if (TRows.Value > 5) WriteRow<TV, TOps>(c + 5 * ldc, 5, c50, c51, last);
                break;
            }
        }

        /// <summary>
        /// The scalar path: rows × <see cref="PanelWidth"/> columns of C from a packed panel, one float accumulator per element (multiply, then
        /// add), the same write-back as the vector tiles.
        /// </summary>
        public static void TileScalar(int rows, float* a, nint lda, float* b, int k, float* c, nint ldc, in WriteBack wb)
        {
            float* acc = stackalloc float[PanelWidth];
            for (int r = 0; r < rows; r++)
            {
                float* ar = a + r * lda, cr = c + r * ldc;
                for (int p0 = 0; ; p0 += KSub)
                {
                    int pEnd = Math.Min(k, p0 + KSub);
                    for (int j = 0; j < PanelWidth; j++) acc[j] = 0;
                    float* bp = b + p0 * PanelWidth;
                    for (int p = p0; p < pEnd; p++, bp += PanelWidth)
                    {
                        float arp = ar[p];
                        for (int j = 0; j < PanelWidth; j++) acc[j] += arp * bp[j];
                    }
                    bool accumulate = wb.Accumulate || p0 > 0, final = wb.Final && pEnd >= k;
                    for (int j = 0; j < PanelWidth; j++)
                    {
                        float v = accumulate ? cr[j] + acc[j] : acc[j];
                        if (final)
                        {
                            if (wb.Alpha != 1f) v *= wb.Alpha;
                            if (wb.Bias != null) v += wb.Bias[j];
                            if (wb.Residual != null) v += wb.Residual[r * wb.Ldr + j];
                        }
                        cr[j] = v;
                    }
                    if (pEnd >= k) break;
                }
            }
        }
    }
}

/// <summary>A compile-time integer for generic specialisation (the JIT folds <c>TRows.Value</c> per instantiation).</summary>
internal interface IConstant { static abstract int Value { get; } }
internal struct Rows1 : IConstant { public static int Value => 1; }
internal struct Rows2 : IConstant { public static int Value => 2; }
internal struct Rows3 : IConstant { public static int Value => 3; }
internal struct Rows4 : IConstant { public static int Value => 4; }
internal struct Rows5 : IConstant { public static int Value => 5; }
internal struct Rows6 : IConstant { public static int Value => 6; }
