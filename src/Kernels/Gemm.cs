using System.Buffers;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>
/// Single-precision matrix multiply, row-major with explicit leading dimensions (BLAS names: M, N, K, lda, ldb, ldc).
/// </summary>
/// <remarks>
/// <para>Three layers, as in MLAS <c>sgemm.cpp</c>: the public entry point validates and picks the vector path once
/// (<see cref="VectorPaths.Active"/>); the driver splits C into tiles and, when the product is large enough, runs the
/// tiles on <see cref="Parallelism.For"/> (at most <see cref="Parallelism.MaxThreads"/> threads); a register-blocked
/// micro-kernel per ISA computes a few rows × columns of C (<c>Gemm.MicroKernels.cs</c>, <c>Gemm.PackedKernels.cs</c>). MatMulNT and MatMulNN read B in place (e.g. straight from a memory-mapped weight
/// file); the NT driver blocks K above 768 (blocks of 512) so a micro-kernel's operands stay in L1. MatMulNT with a
/// tall A (2048 rows or more) packs B into pooled memory and runs the packed GEMM instead. Weights used again and again
/// are packed once (<see cref="PackedMatrix"/>) and multiplied with <c>MatMul</c> (<c>Gemm.Packed.cs</c>), whose
/// epilogue also fuses bias, activation and residual.</para>
/// <para>Measured on the 2-core AVX-512 (Zen 4) dev machine, MatMulNT with M = 128 on the MiniLM shapes
/// (N×K = 384×384, 1536×384, 384×1536): 90–100 GFLOP/s on one thread, 160–180 GFLOP/s on two when the second core was
/// free; the Vector256 path reached ~85 GFLOP/s on one thread (384×384). The packed GEMM: 109–112 GFLOP/s on one
/// thread on these and the BERT-base shapes, 93–95% of the 117 GFLOP/s FMA peak of one core (bench/RESULTS.md, 2026-12-07). bench/Kernels/GemmBenchmarks.cs and
/// <c>bench -- quick gemm</c> measure both.</para>
/// <code>
///   MatMulNT: C[i,j] = Σ_p A[i,p]·B[j,p] (+ bias[j])     A [m, k] lda    B [n, k] ldb   (B = Linear weight [out, in])
///   MatMulNN: C[i,j] = Σ_p A[i,p]·B[p,j]                  A [m, k] lda    B [k, n] ldb
///   MatMul:   C[i,j] = act(α·Σ_p A[i,p]·B[p,j] + bias[j]) + R[i,j]      B packed (PackedMatrix, or Pack/PackTransposed)
///                                                         C [m, n] ldc, overwritten
/// </code>
/// <para>The naive references (<see cref="ReferenceNT"/>, <see cref="ReferenceNN"/>, float64 sums) stay beside the fast
/// paths; tests/Kernels compares every path with them on odd shapes.</para>
/// <para>Accumulation is float32 with FMA where the hardware has it. Results can differ in the last bits between
/// vector paths and machines (different summation order), not between runs on one machine. Only the m×n elements of C
/// are written; elements of a row beyond n (the rest of the leading dimension) are left untouched, so callers may
/// write disjoint column blocks (attention heads) of one buffer concurrently. C must not overlap A or B.</para>
/// </remarks>
public static unsafe partial class Gemm
{
    /// <summary>
    /// Multiply-adds (m·n·k) from which a call is split over threads. Below it the work is ~5–15 µs on one core
    /// (50–100 GFLOP/s with AVX-512), the same order as a <c>Parallel.For</c> fork/join, so splitting does not pay.
    /// </summary>
    public const long ParallelThreshold = 1 << 18;

    /// <summary>Rows of C per parallel task (a multiple of every micro-kernel's row count).</summary>
    const int TileRows = 32;
    /// <summary>Columns of C per parallel task (a multiple of 4 and of two Vector512 widths).</summary>
    const int TileCols = 64;
    /// <summary>K block of the NT driver: 8 rows × 512 floats = 16 KiB, half of a 32 KiB L1.</summary>
    const int KBlock = 512;
    /// <summary>K up to which the NT driver does not block (384 and 768 stay whole; 1536 becomes 3 × 512).</summary>
    const int KBlockThreshold = 768;

    /// <summary>C[m,n] = A[m,k] · B[n,k]ᵀ (+ bias[n]); row-major with leading dimensions lda, ldb, ldc.</summary>
    /// <param name="a">A, row i at <c>a[i·lda ..]</c>, k elements used per row.</param>
    /// <param name="lda">Leading dimension of A (≥ k).</param>
    /// <param name="b">B, row j (a Linear layer's output unit j) at <c>b[j·ldb ..]</c>, k elements used per row.</param>
    /// <param name="ldb">Leading dimension of B (≥ k).</param>
    /// <param name="c">C, overwritten: row i at <c>c[i·ldc ..]</c>, n elements written per row.</param>
    /// <param name="ldc">Leading dimension of C (≥ n).</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Rows of B, columns of C.</param>
    /// <param name="k">Shared dimension.</param>
    /// <param name="bias">Empty for none, else exactly n elements added to every row of C.</param>
    /// <param name="parallel">false runs on the calling thread only (for callers that already parallelise, e.g. over heads).</param>
    /// <exception cref="ArgumentException">A span is shorter than its dimensions need, bias is neither empty nor n long,
    /// or C overlaps A or B.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a leading dimension is shorter than its row.</exception>
    public static void MatMulNT(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, ReadOnlySpan<float> bias = default, bool parallel = true)
    {
        const string op = nameof(MatMulNT);
        ValidateDimensions(op, m, n, k);
        long aUsed = ValidateMatrix(op, a.Length, nameof(a), m, k, lda, nameof(lda), nameof(k));
        long bUsed = ValidateMatrix(op, b.Length, nameof(b), n, k, ldb, nameof(ldb), nameof(k));
        long cUsed = ValidateMatrix(op, c.Length, nameof(c), m, n, ldc, nameof(ldc), nameof(n));
        if (!bias.IsEmpty && bias.Length != n)
            ThrowHelper.ThrowLengthMismatch(op, nameof(bias), bias.Length, n, "n, or empty for no bias");
        ValidateNoOverlap(op, c, cUsed, a, aUsed, nameof(a));
        ValidateNoOverlap(op, c, cUsed, b, bUsed, nameof(b));
        if (m == 0 || n == 0) return;
        if (PackOnTheFly(m, n, k))
        {
            // tall A (e.g. Value Zeroing's n² perturbation rows): packing B costs n·k copies against m·n·k multiply-adds
            var packed = ArrayPool<float>.Shared.Rent((int)PackedSize(n, k));
            try
            {
                PackTransposed(b, ldb, n, k, packed);
                MatMulPacked(a, lda, packed, n, k, c, ldc, m, new GemmEpilogue { Bias = bias }, parallel);
            }
            finally { ArrayPool<float>.Shared.Return(packed); }
            return;
        }

        fixed (float* pa = a, pb = b, pc = c, pbias = bias)
        {
            var problem = new NtProblem(pa, lda, pb, ldb, pc, ldc, k, bias.IsEmpty ? null : pbias, VectorPaths.Active);
            if (parallel && ShouldParallelise(m, n, k))
                RunTiles(problem, m, n);
            else
                problem.Run(0, m, 0, n);
        }
    }

    /// <summary>C[m,n] = A[m,k] · B[k,n]; row-major with leading dimensions.</summary>
    /// <param name="a">A, row i at <c>a[i·lda ..]</c>, k elements used per row.</param>
    /// <param name="lda">Leading dimension of A (≥ k).</param>
    /// <param name="b">B, row p at <c>b[p·ldb ..]</c>, n elements used per row.</param>
    /// <param name="ldb">Leading dimension of B (≥ n).</param>
    /// <param name="c">C, overwritten: row i at <c>c[i·ldc ..]</c>, n elements written per row.</param>
    /// <param name="ldc">Leading dimension of C (≥ n).</param>
    /// <param name="m">Rows of A and C.</param>
    /// <param name="n">Columns of B and C.</param>
    /// <param name="k">Columns of A, rows of B.</param>
    /// <param name="parallel">false runs on the calling thread only.</param>
    /// <exception cref="ArgumentException">A span is shorter than its dimensions need, or C overlaps A or B.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a leading dimension is shorter than its row.</exception>
    public static void MatMulNN(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, bool parallel = true)
    {
        const string op = nameof(MatMulNN);
        ValidateDimensions(op, m, n, k);
        long aUsed = ValidateMatrix(op, a.Length, nameof(a), m, k, lda, nameof(lda), nameof(k));
        long bUsed = ValidateMatrix(op, b.Length, nameof(b), k, n, ldb, nameof(ldb), nameof(n));
        long cUsed = ValidateMatrix(op, c.Length, nameof(c), m, n, ldc, nameof(ldc), nameof(n));
        ValidateNoOverlap(op, c, cUsed, a, aUsed, nameof(a));
        ValidateNoOverlap(op, c, cUsed, b, bUsed, nameof(b));
        if (m == 0 || n == 0) return;

        fixed (float* pa = a, pb = b, pc = c)
        {
            var problem = new NnProblem(pa, lda, pb, ldb, pc, ldc, k, VectorPaths.Active);
            if (parallel && ShouldParallelise(m, n, k))
                RunTiles(problem, m, n);
            else
                problem.Run(0, m, 0, n);
        }
    }

    /// <summary>
    /// Scalar reference for <see cref="MatMulNT"/>: the textbook triple loop, C[i,j] = Σ_p A[i,p]·B[j,p] + bias[j],
    /// accumulated in float64 (so tests can bound the fast path's float32 rounding against it). No validation of overlap.
    /// </summary>
    public static void ReferenceNT(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, ReadOnlySpan<float> bias = default)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = bias.IsEmpty ? 0 : bias[j];
                for (int p = 0; p < k; p++) sum += (double)a[i * lda + p] * b[j * ldb + p];
                c[i * ldc + j] = (float)sum;
            }
    }

    /// <summary>Scalar reference for <see cref="MatMulNN"/>: C[i,j] = Σ_p A[i,p]·B[p,j], accumulated in float64.</summary>
    public static void ReferenceNN(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0;
                for (int p = 0; p < k; p++) sum += (double)a[i * lda + p] * b[p * ldb + j];
                c[i * ldc + j] = (float)sum;
            }
    }

    // ---- driver: threading over tiles of C -------------------------------------------------------------------------

    /// <summary>Whether MatMulNT packs B and runs the packed GEMM: A has at least <see cref="PackOnTheFlyRows"/> rows and
    /// the product is large enough to be split over threads. Packing costs about 1 ns per element of B (a strided
    /// copy), each of which then takes part in m multiply-adds at ~55 per ns; from 2048 rows the copy is ~1% of the
    /// product, below the ~8% the packed kernel gains.</summary>
    static bool PackOnTheFly(int m, int n, int k)
        => m >= PackOnTheFlyRows && (long)m * n * k >= ParallelThreshold && PackedSize(n, k) <= Array.MaxLength;

    /// <summary>Rows of A from which MatMulNT packs B on the fly (Value Zeroing's ΔG W_outᵀ: 2048 perturbation rows).</summary>
    const int PackOnTheFlyRows = 2048;

    static bool ShouldParallelise(int m, int n, int k)
        => Parallelism.MaxThreads > 1 && (long)m * n * Math.Max(k, 1) >= ParallelThreshold && TileCount(m, n) > 1;

    /// <summary>The tiles of one unpacked MatMulNT or MatMulNN call on <see cref="Parallelism.For"/> (through
    /// <see cref="ParallelJob"/>, so a call allocates nothing).</summary>
    static void RunTiles<TProblem>(in TProblem problem, int m, int n) where TProblem : struct, ITileProblem
        => ParallelJob.Run(TileCount(m, n), new Tiles<TProblem>(problem, m, n));

    /// <summary>A MatMulNT or MatMulNN call's operands: <c>Run</c> computes the tile rows [i0, i1) × columns [j0, j1) of C.</summary>
    interface ITileProblem
    {
        void Run(int i0, int i1, int j0, int j1);
    }

    /// <summary>Task t: tile t of C (<see cref="TileBounds"/>). Not readonly: Run on a readonly field of a type
    /// parameter would run on a defensive copy of the operands.</summary>
    struct Tiles<TProblem>(TProblem problem, int m, int n) : IParallelBody where TProblem : struct, ITileProblem
    {
        public void Invoke(int t)
        {
            TileBounds(t, m, n, out int i0, out int i1, out int j0, out int j1);
            problem.Run(i0, i1, j0, j1);
        }
    }

    static int TileCount(int m, int n) => DivUp(m, TileRows) * DivUp(n, TileCols);

    /// <summary>Tile t of the row-major grid of TileRows × TileCols tiles of C.</summary>
    static void TileBounds(int t, int m, int n, out int i0, out int i1, out int j0, out int j1)
    {
        int colTiles = DivUp(n, TileCols);
        i0 = t / colTiles * TileRows;
        j0 = t % colTiles * TileCols;
        i1 = Math.Min(i0 + TileRows, m);
        j1 = Math.Min(j0 + TileCols, n);
    }

    static int DivUp(int x, int y) => (x + y - 1) / y;

    // ---- validation --------------------------------------------------------------------------------------------------

    static void ValidateDimensions(string op, int m, int n, int k)
    {
        if (m < 0) ThrowHelper.ThrowNegativeDimension(op, nameof(m), m);
        if (n < 0) ThrowHelper.ThrowNegativeDimension(op, nameof(n), n);
        if (k < 0) ThrowHelper.ThrowNegativeDimension(op, nameof(k), k);
    }

    /// <summary>Checks a rows × cols matrix with leading dimension ld; returns the number of elements it spans.</summary>
    static long ValidateMatrix(string op, int length, string name, int rows, int cols, int ld, string ldName, string colsName)
    {
        if (ld < cols) ThrowHelper.ThrowLeadingDimension(op, ldName, ld, colsName, cols);
        long used = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < used) ThrowHelper.ThrowTooShort(op, name, length, used, $"[{rows}, {cols}] with {ldName} = {ld}");
        return used;
    }

    static void ValidateNoOverlap(string op, ReadOnlySpan<float> output, long outputUsed, ReadOnlySpan<float> input, long inputUsed, string inputName)
    {
        if (outputUsed > 0 && inputUsed > 0 && output[..(int)outputUsed].Overlaps(input[..(int)inputUsed]))
            ThrowHelper.ThrowOverlap(op, "c", inputName);
    }

    // ---- per-problem dispatch to one micro-kernel family ------------------------------------------------------------

    /// <summary>Operands of one MatMulNT call, pinned; <see cref="Run"/> computes one tile of C.</summary>
    readonly struct NtProblem(float* a, nint lda, float* b, nint ldb, float* c, nint ldc, int k, float* bias, VectorPath path) : ITileProblem
    {
        public void Run(int i0, int i1, int j0, int j1)
        {
            switch (path)
            {
                case VectorPath.Vector512: NtTile<Vector512<float>, Simd512>(i0, i1, j0, j1); break;
                case VectorPath.Vector256: NtTile<Vector256<float>, Simd256>(i0, i1, j0, j1); break;
                case VectorPath.Vector128: NtTile<Vector128<float>, Simd128>(i0, i1, j0, j1); break;
                default: NtTileScalar(i0, i1, j0, j1); break;
            }
        }

        /// <summary>
        /// Column blocks of 4 (4 rows of B stay in L1 while the tile's rows of A stream past), row blocks of
        /// <c>NtRows</c>; single rows and single columns at the edges. A long K is cut into blocks of
        /// <see cref="KBlock"/> so that the 8 rows a 4×4 kernel reads (16 KiB) stay in L1; blocks after the first
        /// add into C.
        /// </summary>
        void NtTile<TV, TOps>(int i0, int i1, int j0, int j1) where TV : struct where TOps : struct, ISimdOps<TV>
        {
            int jVecEnd = j0 + (j1 - j0) / 4 * 4;
            int kc = k <= KBlockThreshold ? Math.Max(k, 1) : KBlock;   // k = 0: one pass that writes the bias
            for (int p0 = 0; p0 == 0 || p0 < k; p0 += kc)
            {
                int kLen = Math.Min(kc, k - p0);
                bool accumulate = p0 > 0;
                float* ap = a + p0;
                for (int j = j0; j < jVecEnd; j += 4)
                {
                    float* bj = b + j * ldb + p0, cj = c + j, biasj = bias == null ? null : bias + j;
                    int i = i0;
                    if (TOps.NtRows == 4)
                        for (; i + 4 <= i1; i += 4) MicroKernels.Nt4x4<TV, TOps>(ap + i * lda, lda, bj, ldb, cj + i * ldc, ldc, kLen, biasj, accumulate);
                    else
                        for (; i + 2 <= i1; i += 2) MicroKernels.Nt2x4<TV, TOps>(ap + i * lda, lda, bj, ldb, cj + i * ldc, ldc, kLen, biasj, accumulate);
                    for (; i < i1; i++) MicroKernels.Nt1x4<TV, TOps>(ap + i * lda, bj, ldb, cj + i * ldc, kLen, biasj, accumulate);
                }
            }
            for (int j = jVecEnd; j < j1; j++)
                for (int i = i0; i < i1; i++)
                    c[i * ldc + j] = MicroKernels.Dot<TV, TOps>(a + i * lda, b + j * ldb, k) + (bias == null ? 0f : bias[j]);
        }

        void NtTileScalar(int i0, int i1, int j0, int j1)
        {
            for (int i = i0; i < i1; i++)
                for (int j = j0; j < j1; j++)
                    c[i * ldc + j] = MicroKernels.DotScalar(a + i * lda, b + j * ldb, k) + (bias == null ? 0f : bias[j]);
        }
    }

    /// <summary>Operands of one MatMulNN call, pinned; <see cref="Run"/> computes one tile of C.</summary>
    readonly struct NnProblem(float* a, nint lda, float* b, nint ldb, float* c, nint ldc, int k, VectorPath path) : ITileProblem
    {
        public void Run(int i0, int i1, int j0, int j1)
        {
            switch (path)
            {
                case VectorPath.Vector512: NnTile<Vector512<float>, Simd512>(i0, i1, j0, j1); break;
                case VectorPath.Vector256: NnTile<Vector256<float>, Simd256>(i0, i1, j0, j1); break;
                case VectorPath.Vector128: NnTile<Vector128<float>, Simd128>(i0, i1, j0, j1); break;
                default: MicroKernels.NnScalar(a, lda, b, ldb, c, ldc, i0, i1, j0, j1, k); break;
            }
        }

        /// <summary>Column panels of two vectors, then one vector, then scalar columns; row blocks of 4, then single rows.</summary>
        void NnTile<TV, TOps>(int i0, int i1, int j0, int j1) where TV : struct where TOps : struct, ISimdOps<TV>
        {
            int w = TOps.Count;
            int j = j0;
            for (; j + 2 * w <= j1; j += 2 * w)
            {
                int i = i0;
                for (; i + 4 <= i1; i += 4) MicroKernels.Nn4x2<TV, TOps>(a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, k);
                for (; i < i1; i++) MicroKernels.Nn1x2<TV, TOps>(a + i * lda, b + j, ldb, c + i * ldc + j, k);
            }
            for (; j + w <= j1; j += w)
            {
                int i = i0;
                for (; i + 4 <= i1; i += 4) MicroKernels.Nn4x1<TV, TOps>(a + i * lda, lda, b + j, ldb, c + i * ldc + j, ldc, k);
                for (; i < i1; i++) MicroKernels.Nn1x1<TV, TOps>(a + i * lda, b + j, ldb, c + i * ldc + j, k);
            }
            if (j < j1) MicroKernels.NnScalar(a, lda, b, ldb, c, ldc, i0, i1, j, j1, k);
        }
    }
}
