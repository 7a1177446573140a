using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

public static unsafe partial class Gemm
{
    /// <summary>
    /// Columns per packed panel, fixed for the process by the widest path the hardware has (<see cref="VectorPaths.Detected"/>):
    /// 32 (two Vector512 widths) with AVX-512, else 16 (two Vector256 widths, the width of the 6 × 16 micro-tile; four
    /// Vector128). A path capped below the detected one (<see cref="VectorPaths.LimitForCurrentThread"/>) covers a panel
    /// in several column steps, so one packed weight still serves every path the process can take.
    /// <para>Why 16 without AVX-512: a 6 × 16 tile reading a 32-wide panel takes every other 64-byte line of it per
    /// column step, so the weight stream from DRAM (every forward: all-MiniLM-L6-v2's Linear weights, 42 MB, exceed the
    /// L3) arrives in two strided passes. Measured on Zen 3 (AVX2, 512 KiB L2, ~9 GB/s single-core DRAM read),
    /// all-MiniLM-L6-v2 forward, processes alternating, medians of 4 s: n = 16 one thread 12.2, 12.6, 13.1 ms (32) →
    /// 10.0, 9.8, 10.8 ms (16); two threads 7.9 → 7.0 ms; n = 128 and 512 level within the noise.</para>
    /// </summary>
    public static readonly int PanelWidth = VectorPaths.Detected == VectorPath.Vector512 ? 32 : 16;
    /// <summary>K up to which a packed matrix is one K block (384 and 768 stay whole).</summary>
    const int KBlockWhole = 768;
    /// <summary>Target K block above <see cref="KBlockWhole"/>: 1536 becomes 3 × 512, 3072 becomes 6 × 512.</summary>
    const int KBlockTarget = 512;
    /// <summary>
    /// Rows per micro-tile on the Vector512 path: 6 × 32 (12 zmm accumulators). Measured at M = 128, 1 thread (GFLOP per
    /// CPU-second): 12, 8, 6 and 4 rows all reach 108–114 on the MiniLM shapes and 768×768, but on K = 3072 / N = 3072
    /// (BERT-base FFN) 12 rows gave 90–102 against 108–111 for 6 (12 row pointers, 12 KiB apart for K = 3072, compete
    /// for registers and for one L1 set). The kernels are compiled for heights 1 to 6 (taller ones were removed after that
    /// measurement).
    /// </summary>
    internal const int TileRows512 = 6;
    /// <summary>The tallest tile the kernels are compiled for (<c>Rows6</c>).</summary>
    const int MaxTileRows = 6;
    /// <summary>Rows per micro-tile on the Vector256 and Vector128 paths (6 rows × 2 vectors: 12 of 16 registers).</summary>
    internal const int TileRowsNarrow = 6;
    /// <summary>Rows per tile on the scalar path.</summary>
    const int TileRowsScalar = 4;
    /// <summary>Multiply-adds per thread below which adding a thread does not pay (~10 µs of work at 50 GFLOP/s).</summary>
    const long WorkPerThread = 1 << 18;

    /// <summary>Rows of a K block in the packed layout: k itself up to 768, else about 512 (equal blocks).</summary>
    public static int KBlockSize(int k) => k <= KBlockWhole ? Math.Max(k, 1) : DivUp(k, DivUp(k, KBlockTarget));

    /// <summary>Floats a packed B [k, n] takes (MLAS <c>MlasGemmPackBSize</c>): n rounded up to whole panels, times k.</summary>
    public static long PackedSize(int n, int k) => (long)DivUp(Math.Max(n, 0), PanelWidth) * PanelWidth * Math.Max(k, 0);

    /// <summary>Packs W [n, k] (a Linear weight, C = A Wᵀ) into <paramref name="packed"/> (layout: <see cref="PackedMatrix"/>).</summary>
    /// <param name="packed">At least <see cref="PackedSize"/>(n, k) elements.</param>
    public static void PackTransposed(ReadOnlySpan<float> w, int ldw, int n, int k, Span<float> packed)
    {
        const string op = nameof(PackTransposed);
        ValidateDimensions(op, 0, n, k);
        ValidateMatrix(op, w.Length, nameof(w), n, k, ldw, nameof(ldw), nameof(k));
        ValidatePacked(op, packed.Length, n, k);
        if (n == 0 || k == 0) return;
        fixed (float* pw = w, pp = packed) PackPanels<FillFromRowsOfW>(pw, ldw, n, k, pp);
    }

    /// <summary>Packs B [k, n] (C = A B) into <paramref name="packed"/> (layout: <see cref="PackedMatrix"/>).</summary>
    /// <param name="packed">At least <see cref="PackedSize"/>(n, k) elements.</param>
    public static void Pack(ReadOnlySpan<float> b, int ldb, int k, int n, Span<float> packed)
    {
        const string op = nameof(Pack);
        ValidateDimensions(op, 0, n, k);
        ValidateMatrix(op, b.Length, nameof(b), k, n, ldb, nameof(ldb), nameof(n));
        ValidatePacked(op, packed.Length, n, k);
        if (n == 0 || k == 0) return;
        fixed (float* pb = b, pp = packed) PackPanels<FillFromRowsOfB>(pb, ldb, n, k, pp);
    }

    /// <summary>
    /// The loops of <see cref="Pack"/> and <see cref="PackTransposed"/>: for each K block, for each panel of
    /// <see cref="PanelWidth"/> columns, the block's kLen rows of the panel, filled by <typeparamref name="TFill"/> from
    /// the source (leading dimension <paramref name="ld"/>) with columns past n zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // compiled optimised at once, so the fill is inlined: the attention packs K and V of every head with it each forward, and its tier-up (like Softmax's, see Softmax.Rows) lagged for seconds in a one-processor process, where its tier-0 code took ~3 % of a 20–25 ms MiniLM forward
    static void PackPanels<TFill>(float* src, nint ld, int n, int k, float* packed) where TFill : struct, IPanelFill
    {
        int panels = DivUp(n, PanelWidth), kc = KBlockSize(k);
        for (int p0 = 0; p0 < k; p0 += kc)
        {
            int kLen = Math.Min(kc, k - p0);
            for (int jp = 0; jp < panels; jp++)
            {
                int j0 = jp * PanelWidth;
                TFill.Fill(src, ld, p0, kLen, j0, Math.Min(PanelWidth, n - j0),
                    packed + (nint)p0 * panels * PanelWidth + (nint)jp * kLen * PanelWidth);
            }
        }
    }

    /// <summary>How <see cref="PackPanels"/> fills one panel: rows p0 .. p0 + kLen − 1 of B's columns j0 .. j0 + 31
    /// (the first <c>cols</c> of them in the matrix, the rest zero), row p of the panel at <c>panel[p·PanelWidth ..]</c>.
    /// A struct type parameter, so each packing loop is compiled with its own fill inlined.</summary>
    interface IPanelFill
    {
        static abstract void Fill(float* src, nint ld, int p0, int kLen, int j0, int cols, float* panel);
    }

    /// <summary>From B [k, n] (<see cref="Pack"/>): the panel's row p is a slice of B's row p0 + p.</summary>
    struct FillFromRowsOfB : IPanelFill
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Fill(float* src, nint ld, int p0, int kLen, int j0, int cols, float* panel)
        {
            for (int p = 0; p < kLen; p++)
            {
                new ReadOnlySpan<float>(src + (p0 + p) * ld + j0, cols).CopyTo(new Span<float>(panel + p * PanelWidth, cols));
                if (cols < PanelWidth) new Span<float>(panel + p * PanelWidth + cols, PanelWidth - cols).Clear();
            }
        }
    }

    /// <summary>From W [n, k] (<see cref="PackTransposed"/>, B = Wᵀ): the panel's column jj is a slice of W's row j0 + jj.</summary>
    struct FillFromRowsOfW : IPanelFill
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void Fill(float* src, nint ld, int p0, int kLen, int j0, int cols, float* panel)
        {
            for (int jj = 0; jj < PanelWidth; jj++)
            {
                float* row = src + (j0 + jj) * ld + p0;
                if (jj < cols) for (int p = 0; p < kLen; p++) panel[p * PanelWidth + jj] = row[p];
                else for (int p = 0; p < kLen; p++) panel[p * PanelWidth + jj] = 0f;
            }
        }
    }

    /// <summary>C[m, n] = epilogue(A[m, k] · B), B packed once in advance (for a Linear layer: C = act(A Wᵀ + b) + R).</summary>
    /// <param name="a">A, row i at <c>a[i·lda ..]</c>, k = <c>b.K</c> elements used per row.</param>
    /// <param name="c">C, overwritten: row i at <c>c[i·ldc ..]</c>, n = <c>b.N</c> elements written per row; elements of a
    /// row beyond n are not touched. Must not overlap A.</param>
    /// <param name="epilogue">Scale, bias, activation and residual applied as C is written (<see cref="GemmEpilogue"/>).</param>
    /// <param name="parallel">false runs on the calling thread only; true splits C into tasks over
    /// <see cref="Parallelism.MaxThreads"/> threads when the product is large enough.</param>
    public static void MatMul(ReadOnlySpan<float> a, int lda, PackedMatrix b, Span<float> c, int ldc, int m,
        in GemmEpilogue epilogue = default, bool parallel = true)
        => MatMulPacked(a, lda, b.Data, b.N, b.K, c, ldc, m, epilogue, parallel);

    /// <summary>
    /// <see cref="MatMul(ReadOnlySpan{float}, int, PackedMatrix, Span{float}, int, int, in GemmEpilogue, bool)"/> on a
    /// B packed into caller memory by <see cref="Pack"/> or <see cref="PackTransposed"/> (e.g. per-call scratch for
    /// attention, where B is an activation: Kᵀ or V).
    /// </summary>
    /// <exception cref="ArgumentException">A span is shorter than its dimensions need, the bias is neither empty nor n
    /// long, or C overlaps A, B or (partially) the residual.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A dimension is negative or a leading dimension is shorter than its row.</exception>
    public static void MatMulPacked(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> packedB, int n, int k, Span<float> c, int ldc, int m,
        in GemmEpilogue epilogue = default, bool parallel = true)
    {
        const string op = nameof(MatMulPacked);
        ValidateDimensions(op, m, n, k);
        long aUsed = ValidateMatrix(op, a.Length, nameof(a), m, k, lda, nameof(lda), nameof(k));
        long cUsed = ValidateMatrix(op, c.Length, nameof(c), m, n, ldc, nameof(ldc), nameof(n));
        ValidatePacked(op, packedB.Length, n, k);
        var bias = epilogue.Bias;
        var residual = epilogue.Residual;
        if (!bias.IsEmpty && bias.Length != n)
            ThrowHelper.ThrowLengthMismatch(op, "epilogue.Bias", bias.Length, n, "n, or empty for no bias");
        int ldr = epilogue.ResidualStride;
        bool residualIsC = false;
        if (!residual.IsEmpty)
        {
            long rUsed = ValidateMatrix(op, residual.Length, "epilogue.Residual", m, n, ldr, "epilogue.ResidualStride", nameof(n));
            residualIsC = rUsed > 0 && cUsed > 0 && Unsafe.AreSame(ref MemoryMarshal.GetReference(c), ref MemoryMarshal.GetReference(residual)) && ldr == ldc;
            if (!residualIsC) ValidateNoOverlap(op, c, cUsed, residual, rUsed, "epilogue.Residual");
            else if (epilogue.Alpha != 1f || epilogue.Activation != GemmActivation.None)
                throw new ArgumentException($"{op}: a residual that is C itself (C += A·B) takes no alpha and no activation.", nameof(epilogue));
        }
        ValidateNoOverlap(op, c, cUsed, a, aUsed, nameof(a));
        ValidateNoOverlap(op, c, cUsed, packedB, Math.Min(PackedSize(n, k), packedB.Length), nameof(packedB));
        if (m == 0 || n == 0) return;

        fixed (float* pa = a, pb = packedB, pc = c, pbias = bias, pr = residual)
        {
            VectorPath path = VectorPaths.Active;
            // C += A·B (the residual is C itself): accumulate onto C from the first K block instead of adding R at the
            // end, since the tiles write partial sums into C before their last step
            var problem = new PackedProblem(pa, lda, pb, n, k, pc, ldc, epilogue.Alpha, bias.IsEmpty ? null : pbias,
                epilogue.Activation, residual.IsEmpty || residualIsC ? null : pr, ldr, path, residualIsC);
            int threads = parallel ? ThreadsFor(m, n, k) : 1;
            if (threads <= 1)
            {
                // when A's K block is larger than L2 (a batch of texts), row chunks whose K block stays in L2 while every
                // panel of B passes, as the tasks below do
                int mr = problem.TileRows, rowBlocks = DivUp(m, mr);
                int chunks = (long)m * KBlockSize(k) * sizeof(float) > CacheSizes.L2 ? DivUp(rowBlocks, RowTilesInL2(k, mr)) : 1;
                for (int rc = 0; rc < chunks; rc++)
                    problem.Run((int)((long)rc * rowBlocks / chunks) * mr, Math.Min(m, (int)((long)(rc + 1) * rowBlocks / chunks) * mr),
                        0, DivUp(n, PanelWidth));
                return;
            }
            var tasks = new PackedTasks(problem, m, n, threads);
            ParallelJob.Run(tasks.Count, tasks, threads);
        }
    }

    /// <summary>
    /// Row tiles of A (each <paramref name="mr"/> rows) whose K block (<see cref="KBlockSize"/> columns) fills at most half
    /// of this machine's L2 (<see cref="CacheSizes.L2"/>): the rows a pass over all panels of B keeps cached. The other
    /// half holds the panel of B being read, the tile of C and what the hardware prefetcher brings in.
    /// 512 KiB L2: 28 tiles (168 rows) at K = 384, 21 at K block 512, 14 at K = 768.
    /// <para>Measured on one thread, M = 2048 (a packed batch of <c>evaluate</c>'s perturbed copies), Zen 3 with 512 KiB
    /// L2, whole A against these chunks alternating in one process: K×N = 1536×384 1.13–1.29× faster (5 of 5 pairs),
    /// 384×384, 384×1536 and 768×768 within the noise (0.89–1.06). At M = 128 A's block fits L2 and stays whole: two
    /// chunks there made 3072×768 8 % slower (B and C read twice).</para>
    /// </summary>
    internal static int RowTilesInL2(int k, int mr)
        => Math.Max(1, CacheSizes.L2 / 2 / (mr * KBlockSize(k) * sizeof(float)));

    /// <summary>Threads worth using for m·n·k multiply-adds: one per <see cref="WorkPerThread"/>, at most MaxThreads.</summary>
    static int ThreadsFor(int m, int n, int k)
    {
        long work = (long)m * n * Math.Max(k, 1);
        return (int)Math.Clamp(work / WorkPerThread, 1, Parallelism.MaxThreads);
    }

    static void ValidatePacked(string op, int length, int n, int k)
    {
        long needed = PackedSize(n, k);
        if (length < needed) ThrowHelper.ThrowTooShort(op, "packedB", length, needed, $"a packed [{k}, {n}] matrix (PackedSize)");
    }

    /// <summary>
    /// One packed GEMM call's operands, pinned. <see cref="Run"/> computes rows [i0, i1) × panels [jp0, jp1) of C:
    /// for each K block, for each panel, for each tile of rows: one micro-kernel call (the BLIS loop order without an A
    /// copy: A's rows stay in place and are read as broadcasts; a K block of A, rows × kc, stays in L2 across panels).
    /// </summary>
    readonly struct PackedProblem(float* a, nint lda, float* b, int n, int k, float* c, nint ldc, float alpha, float* bias,
        GemmActivation activation, float* residual, nint ldr, VectorPath path, bool accumulateOntoC = false)
    {
        public int TileRows => path switch
        {
            VectorPath.Vector512 => TileRows512,
            VectorPath.Vector256 or VectorPath.Vector128 => TileRowsNarrow,
            _ => TileRowsScalar,
        };

        public void Run(int i0, int i1, int jp0, int jp1)
        {
            int panels = DivUp(n, PanelWidth), kc = KBlockSize(k), mr = TileRows;
            float* edge = stackalloc float[MaxTileRows * PanelWidth];
            bool fuseResidual = activation == GemmActivation.None;
            for (int p0 = 0; ; p0 += kc)
            {
                int kLen = Math.Min(kc, k - p0);
                bool accumulate = p0 > 0 || accumulateOntoC, final = p0 + kLen >= k;
                float* block = b + (nint)p0 * panels * PanelWidth;
                for (int jp = jp0; jp < jp1; jp++)
                {
                    float* panel = block + (nint)jp * kLen * PanelWidth;
                    int j0 = jp * PanelWidth, cols = Math.Min(PanelWidth, n - j0);
                    float* biasJ = bias == null ? null : bias + j0;
                    // the next panel's lines, a share before every KSub steps of every tile call of this panel
                    var prefetch = NextPanelPrefetch.For(b, panels, k, kc, p0, kLen, jp, jp0, jp1,
                        DivUp(i1 - i0, mr) * ColumnSteps * DivUp(kLen, PackedKernels.KSub));
                    var pf = prefetch.IsActive ? &prefetch : null;
                    for (int i = i0; i < i1; i += mr)
                    {
                        int rows = Math.Min(mr, i1 - i);
                        float* ai = a + i * lda + p0, ci = c + i * ldc + j0;
                        float* ri = residual == null ? null : residual + i * ldr + j0;
                        if (cols == PanelWidth)
                        {
                            Tile(rows, ai, panel, kLen, ci, ldc, new PackedKernels.WriteBack(accumulate, final, alpha, biasJ, fuseResidual ? ri : null, ldr, pf));
                        }
                        else
                        {
                            // last, partial panel: through a scratch tile holding C's valid columns (so the sums run
                            // in the same order as in a full panel); the epilogue then writes the valid columns back
                            if (accumulate) CopyEdge(ci, ldc, edge, PanelWidth, rows, cols);
                            Tile(rows, ai, panel, kLen, edge, PanelWidth, new PackedKernels.WriteBack(accumulate, false, 1f, null, null, 0, pf));
                            FinishEdge(edge, rows, cols, ci, final, biasJ, fuseResidual ? ri : null);
                        }
                        if (final && !fuseResidual) Activate(ci, rows, cols, ri);
                    }
                }
                if (final) break;
            }
        }

        /// <summary>Calls of the micro-kernel per panel and row tile: the panel's width over the tile's (2 vectors; the
        /// scalar tile takes the whole panel).</summary>
        int ColumnSteps => path switch
        {
            VectorPath.Vector512 => PanelWidth / (2 * Vector512<float>.Count),
            VectorPath.Vector256 => PanelWidth / (2 * Vector256<float>.Count),
            VectorPath.Vector128 => PanelWidth / (2 * Vector128<float>.Count),
            _ => 1,
        };

        void Tile(int rows, float* ai, float* panel, int kLen, float* ci, nint ldci, in PackedKernels.WriteBack wb)
        {
            switch (path)
            {
                case VectorPath.Vector512: Columns<Vector512<float>, Simd512>(rows, ai, panel, kLen, ci, ldci, wb); break;
                case VectorPath.Vector256: Columns<Vector256<float>, Simd256>(rows, ai, panel, kLen, ci, ldci, wb); break;
                case VectorPath.Vector128: Columns<Vector128<float>, Simd128>(rows, ai, panel, kLen, ci, ldci, wb); break;
                default: PackedKernels.TileScalar(rows, ai, lda, panel, kLen, ci, ldci, wb); break;
            }
        }

        /// <summary>A panel in column steps of two vectors (one step for Vector512).</summary>
        [MethodImpl(MethodImplOptions.AggressiveOptimization)] // called once per tile: its tier-0 code (and call-counting stub) ran for seconds in a one-processor process (see Softmax.Rows)
        void Columns<TV, TOps>(int rows, float* ai, float* panel, int kLen, float* ci, nint ldci, in PackedKernels.WriteBack wb)
            where TV : struct where TOps : struct, ISimdOps<TV>
        {
            for (int j = 0; j < PanelWidth; j += 2 * TOps.Count)
            {
                var step = new PackedKernels.WriteBack(wb.Accumulate, wb.Final, wb.Alpha, wb.Bias == null ? null : wb.Bias + j,
                    wb.Residual == null ? null : wb.Residual + j, wb.Ldr, wb.Prefetch);
                switch (rows)
                {
                    case 1: PackedKernels.Tile<TV, TOps, Rows1>(ai, lda, panel + j, kLen, ci + j, ldci, step); break;
                    case 2: PackedKernels.Tile<TV, TOps, Rows2>(ai, lda, panel + j, kLen, ci + j, ldci, step); break;
                    case 3: PackedKernels.Tile<TV, TOps, Rows3>(ai, lda, panel + j, kLen, ci + j, ldci, step); break;
                    case 4: PackedKernels.Tile<TV, TOps, Rows4>(ai, lda, panel + j, kLen, ci + j, ldci, step); break;
                    case 5: PackedKernels.Tile<TV, TOps, Rows5>(ai, lda, panel + j, kLen, ci + j, ldci, step); break;
                    default: PackedKernels.Tile<TV, TOps, Rows6>(ai, lda, panel + j, kLen, ci + j, ldci, step); break;
                }
            }
        }

        static void CopyEdge(float* from, nint ldFrom, float* to, nint ldTo, int rows, int cols)
        {
            for (int r = 0; r < rows; r++)
                new ReadOnlySpan<float>(from + r * ldFrom, cols).CopyTo(new Span<float>(to + r * ldTo, cols));
        }

        /// <summary>The valid columns of a scratch tile into C, on the last K block through the epilogue (the same
        /// operations in the same order as <c>WriteRow</c>). <c>PackedKernels.TileScalar</c> writes back the same way;
        /// one helper for both measured ~15% slower here (S = Q Kᵀ at T = 16, where every tile is a partial panel).</summary>
        void FinishEdge(float* tile, int rows, int cols, float* ci, bool final, float* biasJ, float* ri)
        {
            for (int r = 0; r < rows; r++)
            {
                float* cr = ci + r * ldc, tr = tile + r * PanelWidth;
                for (int j = 0; j < cols; j++)
                {
                    float v = tr[j];
                    if (final)
                    {
                        if (alpha != 1f) v *= alpha;
                        if (biasJ != null) v += biasJ[j];
                        if (ri != null) v += ri[r * ldr + j];
                    }
                    cr[j] = v;
                }
            }
        }

        /// <summary>The activation, then the residual, on rows × cols of C just written (still in L1).</summary>
        void Activate(float* ci, int rows, int cols, float* ri)
        {
            for (int r = 0; r < rows; r++)
            {
                float* cr = ci + r * ldc;
                var row = new Span<float>(cr, cols);
                switch (activation)
                {
                    case GemmActivation.Gelu: Activations.Gelu(cr, cols, path); break;
                    case GemmActivation.GeluTanh: Activations.GeluTanh(cr, cols, path); break;
                    case GemmActivation.Relu: Activations.Relu(row); break;
                }
                if (ri != null) TensorPrimitives.Add(row, new ReadOnlySpan<float>(ri + r * ldr, cols), row);
            }
        }
    }

    /// <summary>
    /// Brings the next panel of packed B (the next panel of this task's columns, or the first of the next K block) into
    /// the cache while the current panel runs: a share of its cache lines (PREFETCHT0) before every <c>KSub</c> steps of p
    /// of every tile call, so that the next panel's first tile does not wait on memory line by line, and the requests
    /// come a few at a time (n = 16, panel 16 × 384: 6 lines per step) instead of a third of the panel at once. A
    /// model's weights do not fit in L3 (all-MiniLM-L6-v2: 42 MB of Linear weights), so every forward streams them from
    /// DRAM, and at few rows (n = 16: 3 row tiles per panel) the GEMM waits on that stream more than it computes.
    /// <para>Measured on Zen 3 (AVX2, 512 KiB L2, other processes paused), one thread, alternating with the prefetch off in
    /// one process: GEMM with B from DRAM (40 weights in rotation) at M = 16, median of 5 rounds, 384×384 1.23×, 384×1536
    /// 1.15–1.31×, 768×768 1.20×, 768×3072 1.11×, 1536×384 0.86–1.20×, 3072×768 0.99×; all-MiniLM-L6-v2 forward, median of
    /// 10 rounds of 0.5 s: n = 16 13.76 → 12.93 ms (faster in 7 of 10 rounds), n = 128 61.9 → 56.6 ms (6 of 10), n = 16
    /// on two threads 7.47 → 7.02 ms (8 of 10). With B in L3 (one weight reused) it made no difference.</para>
    /// <para>Then with 16-wide panels (the same machine, busier: load 2–6), processes alternating, medians of 3 s: a burst
    /// per row tile (128 lines at n = 16) against a share per <c>KSub</c> steps, all-MiniLM-L6-v2 n = 16 9.48, 11.19, 11.17
    /// → 8.87, 9.17, 9.13 ms; n = 128 61.9, 60.5 → 60.4, 60.9 ms. A PREFETCHT0 64 lines ahead in every step of the
    /// micro-kernel instead measured 9.8–10.4 ms at n = 16 and up to 9 % slower at n = 128 (it also runs in the tiles whose
    /// panel is already cached).</para>
    /// </summary>
    internal struct NextPanelPrefetch
    {
        byte* _next, _end;
        nint _bytesPerStep;

        /// <summary>The prefetch of the panel after panel <paramref name="jp"/> of the K block at <paramref name="p0"/>, in
        /// <paramref name="steps"/> equal shares (one per <see cref="Step"/> call); inactive when there is none.</summary>
        public static NextPanelPrefetch For(float* b, int panels, int k, int kc, int p0, int kLen, int jp, int jp0, int jp1, int steps)
        {
            var prefetch = default(NextPanelPrefetch);
            if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return prefetch;
            float* next;
            int nextLen;
            if (jp + 1 < jp1) { next = b + (nint)p0 * panels * PanelWidth + (nint)(jp + 1) * kLen * PanelWidth; nextLen = kLen; }
            else if (p0 + kLen < k) { nextLen = Math.Min(kc, k - p0 - kLen); next = b + (nint)(p0 + kLen) * panels * PanelWidth + (nint)jp0 * nextLen * PanelWidth; }
            else return prefetch;
            nint bytes = (nint)nextLen * PanelWidth * sizeof(float);
            prefetch._next = (byte*)next;
            prefetch._end = (byte*)next + bytes;
            prefetch._bytesPerStep = (DivUp((int)(bytes / 64), Math.Max(steps, 1))) * 64;
            return prefetch;
        }

        /// <summary>Whether there is a next panel to bring in (and the instruction to do it).</summary>
        public readonly bool IsActive => _next != null;

        /// <summary>Prefetches one step's share of the next panel's lines.</summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public void Step()
        {
            if (_next == null) return;
            byte* stop = _next + _bytesPerStep;
            if (stop > _end) stop = _end;
            for (byte* line = _next; line < stop; line += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(line);
            _next = stop;
        }
    }

    /// <summary>
    /// A parallel packed GEMM's tasks: C split into row chunks × panel chunks, handed out one at a time by
    /// <see cref="Parallelism.For"/> (through <see cref="ParallelJob"/>, so a call allocates nothing).
    /// </summary>
    readonly struct PackedTasks : IParallelBody
    {
        /// <summary>
        /// Row tiles of A up to which a parallel GEMM gets one task per thread instead of about four (M ≤ 48 on the
        /// 6-row tiles: a short text, or the first tokens of a batch). There the GEMM waits on the stream of packed
        /// weights more than it computes, and a task's first panel is not prefetched (<see cref="NextPanelPrefetch"/>
        /// runs within a task's panels), so one contiguous run of panels per thread keeps the prefetch unbroken.
        /// <para>Measured on Zen 3 (Vector256), two threads, both splits alternating every 0.3 s in one process
        /// (one / four tasks per thread, per-pair medians): all-MiniLM-L6-v2 forward n = 16 0.899 and 0.944, n = 48
        /// 0.965; the BERT-base-shaped peer n = 16 0.978. At n = 128 (22 row tiles) one task per thread measured 0.989
        /// and 0.975 with the third quartile above 1, so larger M keeps the dynamic split.</para>
        /// </summary>
        const int StreamBoundRowTiles = 8;

        readonly PackedProblem _problem;
        readonly int _m, _panels, _rowBlocks, _rowChunks, _colChunks, _mr;

        /// <summary>
        /// About four tasks per thread (dynamic scheduling evens out a core slowed by other work; one per thread for few
        /// rows, <see cref="StreamBoundRowTiles"/>), as blocks of at least 2 row tiles × 2 panels: two tasks running side by side then share at most the cache lines at their edges
        /// (one panel per task, 32 columns = 128 bytes of each row of C, made neighbouring tasks write the same lines
        /// of C at every K step and halved the 2-thread speed). A is cut into as few row chunks as keep a chunk's K
        /// block of A in L2 (at most 16 tiles, 192 rows), and the tasks are made from columns first: each task then
        /// reads only its own panels of B, and B is read once per row chunk (M = 128: twice) instead of once per task.
        /// Only when B has too few panels for the target are the row chunks cut finer.
        /// <para>Rows first (the split before this one: M = 128 on 2 threads gave 8 row chunks of 2 or 3 tiles, each
        /// task streaming all of B, and tasks of unequal height) measured, in one process, forwards alternating
        /// between the two splits (14 pairs of 6 forwards, 2 threads, Zen 5): BERT-base n = 128 median 64.9 → 63.1,
        /// 62.7 → 60.6, 64.9 → 62.4 ms over three processes (columns faster in 13, 14 and ~9 of 14 pairs);
        /// all-MiniLM-L6-v2 n = 128: 9.5 → 8.5 and 9.1 → 8.2 ms. The side-by-side runner (<c>peers</c>, BERT-base n = 128,
        /// all cores, old and new build alternating): MixLens median 66.0, 70.6, 67.4, 99.3 → 60.5, 63.3, 91.9, 63.4 ms
        /// (ORT / MixLens 1.00, 1.01, 1.02, 0.94 → 1.08, 1.16, 0.95, 1.09), and in two full runs (MiniLM first) 102.5,
        /// 97.5 → 70.8, 64.6 ms with CPU per run 191, 184 → 138, 129 ms. At n = 16 (3 row tiles) both give one row chunk.</para>
        /// </summary>
        public PackedTasks(in PackedProblem problem, int m, int n, int threads)
        {
            _problem = problem;
            _m = m;
            _mr = problem.TileRows;
            _panels = DivUp(n, PanelWidth);
            _rowBlocks = DivUp(m, _mr);
            int target = (_rowBlocks <= StreamBoundRowTiles ? 1 : 4) * threads;
            _rowChunks = Math.Max(1, DivUp(_rowBlocks, 16));
            _colChunks = Math.Clamp(DivUp(target, _rowChunks), 1, Math.Max(1, _panels / 2));
            if (_rowChunks * _colChunks < target)
                _rowChunks = Math.Max(_rowChunks, Math.Min(_rowBlocks / 2, DivUp(target, _colChunks)));
        }

        public int Count => _rowChunks * _colChunks;

        public void Invoke(int task)
        {
            int rc = task / _colChunks, cc = task % _colChunks;
            int i0 = (int)((long)rc * _rowBlocks / _rowChunks) * _mr;
            int i1 = Math.Min(_m, (int)((long)(rc + 1) * _rowBlocks / _rowChunks) * _mr);
            int jp0 = (int)((long)cc * _panels / _colChunks), jp1 = (int)((long)(cc + 1) * _panels / _colChunks);
            _problem.Run(i0, i1, jp0, jp1);
        }
    }
}
