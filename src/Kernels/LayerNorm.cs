using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>LayerNorm over the last axis (rows of a row-major [rows, cols] matrix, e.g. [pos, d_model]).</summary>
public static unsafe partial class LayerNorm
{
    /// <summary>y[r,:] = (x[r,:] - mean_r) * rstd_r * gamma + beta, rstd_r = 1/sqrt(var_r + eps) (biased variance).
    /// Optionally writes mean[r] and rstd[r]. x and y may alias.</summary>
    /// <remarks>
    /// Per row, two passes over x for the statistics, then one for the output (llm.c <c>layernorm_forward</c>):
    /// <code>
    ///   μ  = (1/C) Σ_c x_c                       float64 accumulation
    ///   σ² = (1/C) Σ_c (x_c − μ)²                float64, two-pass (no E[x²] − μ² cancellation)
    ///   ρ  = 1/√(σ² + ε)                         float64; stored as rstd
    ///   y_c = ((x_c − μ)·ρ) · γ_c + β_c          (x_c − μ)·ρ in float64, rounded once, then float32 FMA
    /// </code>
    /// Float64 keeps rows with outliers (|x| ~ 200 beside O(1) values) and ε as small as 1e-12 accurate to float32
    /// rounding. <paramref name="x"/> and <paramref name="y"/> may be the same memory (in place) but must not partially
    /// overlap. <paramref name="mean"/> and <paramref name="rstd"/>, when non-empty, receive μ and ρ per row (ALTI and
    /// GlobEnc decompose the LayerNorm with them).
    /// </remarks>
    /// <exception cref="ArgumentException">A span length does not match rows/cols, or x and y partially overlap.</exception>
    /// <exception cref="ArgumentOutOfRangeException">rows or cols negative, or eps negative or NaN.</exception>
    /// <param name="parallel">true splits the rows over up to <see cref="Parallelism.MaxThreads"/> threads when there are
    /// enough of them (rows are independent, so the result is the same).</param>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps,
        Span<float> y, int rows, int cols, Span<float> mean = default, Span<float> rstd = default, bool parallel = false)
    {
        const string op = nameof(LayerNorm) + "." + nameof(Forward);
        Validate(op, x, gamma, beta, eps, y, rows, cols, mean, rstd);
        if (rows == 0) return;
        fixed (float* px = x, pg = gamma, pb = beta, py = y, pmean = mean, prstd = rstd)
        {
            var problem = new RowsProblem(px, pg, pb, eps, py, pmean, prstd, cols, VectorPaths.Active);
            int threads = parallel ? (int)Math.Clamp((long)rows * cols / ElementsPerThread, 1, Parallelism.MaxThreads) : 1;
            if (threads <= 1)
            {
                problem.Run(0, rows);
                return;
            }
            var chunks = new RowChunks(problem, rows, 2 * threads);
            ParallelJob.Run(chunks.Count, chunks, threads);
        }
    }

    /// <summary>Elements per thread below which splitting the rows does not pay (~10 µs of work).</summary>
    const long ElementsPerThread = 16 * 1024;

    /// <summary>One Forward call's operands, pinned; <see cref="Run"/> normalises rows [r0, r1).</summary>
    readonly struct RowsProblem(float* x, float* gamma, float* beta, float eps, float* y, float* mean, float* rstd, int cols, VectorPath path)
    {
        public void Run(int r0, int r1)
        {
            for (int r = r0; r < r1; r++)
            {
                float* xr = x + (nint)r * cols, yr = y + (nint)r * cols;
                (double mu, double rho) = path switch
                {
                    VectorPath.Vector512 => Row<Vector512<float>, Vector512<double>, Simd512>(xr, gamma, beta, eps, yr, cols),
                    VectorPath.Vector256 => Row<Vector256<float>, Vector256<double>, Simd256>(xr, gamma, beta, eps, yr, cols),
                    VectorPath.Vector128 => Row<Vector128<float>, Vector128<double>, Simd128>(xr, gamma, beta, eps, yr, cols),
                    _ => RowScalar(xr, gamma, beta, eps, yr, cols),
                };
                if (mean != null) mean[r] = (float)mu;
                if (rstd != null) rstd[r] = (float)rho;
            }
        }
    }

    /// <summary>Row chunks of one Forward call (at most one per row) as the tasks of <see cref="Parallelism.For"/>
    /// (through <see cref="ParallelJob"/>, so a call allocates nothing).</summary>
    readonly struct RowChunks(RowsProblem problem, int rows, int chunks) : IParallelBody
    {
        public int Count { get; } = Math.Min(chunks, rows);

        public void Invoke(int chunk) => problem.Run((int)((long)chunk * rows / Count), (int)((long)(chunk + 1) * rows / Count));
    }

    /// <summary>
    /// Scalar reference (and the no-SIMD path): the formulas of <see cref="Forward"/> one element at a time, float64
    /// statistics. Same contract as <see cref="Forward"/>.
    /// </summary>
    public static void Reference(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps,
        Span<float> y, int rows, int cols, Span<float> mean = default, Span<float> rstd = default)
    {
        const string op = nameof(LayerNorm) + "." + nameof(Reference);
        Validate(op, x, gamma, beta, eps, y, rows, cols, mean, rstd);
        fixed (float* px = x, pg = gamma, pb = beta, py = y)
        {
            for (int r = 0; r < rows; r++)
            {
                (double mu, double rho) = RowScalar(px + (nint)r * cols, pg, pb, eps, py + (nint)r * cols, cols);
                if (!mean.IsEmpty) mean[r] = (float)mu;
                if (!rstd.IsEmpty) rstd[r] = (float)rho;
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // compiled optimised at once: tier-0 code of this loop (SIMD helpers not inlined) is many times slower, and tier-up can lag for seconds in a one-processor process (bench/RESULTS.md)
    static (double Mean, double Rstd) RowScalar(float* x, float* gamma, float* beta, float eps, float* y, int cols)
    {
        double sum = 0;
        for (int c = 0; c < cols; c++) sum += x[c];
        double mu = sum / cols;
        double sq = 0;
        for (int c = 0; c < cols; c++) { double d = x[c] - mu; sq += d * d; }
        double rho = 1.0 / Math.Sqrt(sq / cols + eps);
        for (int c = 0; c < cols; c++) y[c] = (float)((x[c] - mu) * rho) * gamma[c] + beta[c];
        return (mu, rho);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // compiled optimised at once: tier-0 code of this loop (SIMD helpers not inlined) is many times slower, and tier-up can lag for seconds in a one-processor process (bench/RESULTS.md)
    static (double Mean, double Rstd) Row<TV, TVd, TOps>(float* x, float* gamma, float* beta, float eps, float* y, int cols)
        where TV : struct where TVd : struct where TOps : struct, ISimdOps<TV>, IWideningOps<TV, TVd>
    {
        int w = TOps.Count, vecEnd = cols - cols % w, c;

        // μ = (1/C) Σ x_c
        TVd s0 = TOps.ZeroDouble, s1 = TOps.ZeroDouble;
        for (c = 0; c < vecEnd; c += w)
        {
            var (lo, hi) = TOps.Widen(TOps.Load(x + c));
            s0 = TOps.AddDouble(s0, lo);
            s1 = TOps.AddDouble(s1, hi);
        }
        double sum = TOps.SumDouble(TOps.AddDouble(s0, s1));
        for (; c < cols; c++) sum += x[c];
        double mu = sum / cols;

        // σ² = (1/C) Σ (x_c − μ)²
        TVd vmu = TOps.CreateDouble(mu);
        s0 = TOps.ZeroDouble; s1 = TOps.ZeroDouble;
        for (c = 0; c < vecEnd; c += w)
        {
            var (lo, hi) = TOps.Widen(TOps.Load(x + c));
            lo = TOps.SubtractDouble(lo, vmu);
            hi = TOps.SubtractDouble(hi, vmu);
            s0 = TOps.MultiplyAddDouble(lo, lo, s0);
            s1 = TOps.MultiplyAddDouble(hi, hi, s1);
        }
        double sq = TOps.SumDouble(TOps.AddDouble(s0, s1));
        for (; c < cols; c++) { double d = x[c] - mu; sq += d * d; }
        double rho = 1.0 / Math.Sqrt(sq / cols + eps);

        // y_c = ((x_c − μ)·ρ)·γ_c + β_c; reads x_c before writing y_c at the same index, so x == y is safe
        TVd vrho = TOps.CreateDouble(rho);
        for (c = 0; c < vecEnd; c += w)
        {
            var (lo, hi) = TOps.Widen(TOps.Load(x + c));
            lo = TOps.MultiplyDouble(TOps.SubtractDouble(lo, vmu), vrho);
            hi = TOps.MultiplyDouble(TOps.SubtractDouble(hi, vmu), vrho);
            TOps.Store(y + c, TOps.MultiplyAdd(TOps.Narrow(lo, hi), TOps.Load(gamma + c), TOps.Load(beta + c)));
        }
        for (; c < cols; c++) y[c] = (float)((x[c] - mu) * rho) * gamma[c] + beta[c];
        return (mu, rho);
    }

    static void Validate(string op, ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps,
        ReadOnlySpan<float> y, int rows, int cols, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd)
    {
        if (rows < 0) ThrowHelper.ThrowNegativeDimension(op, nameof(rows), rows);
        if (cols < 0) ThrowHelper.ThrowNegativeDimension(op, nameof(cols), cols);
        if (!(eps >= 0)) throw new ArgumentOutOfRangeException(nameof(eps), eps, $"{op}: eps must be non-negative, got {eps}.");
        long size = (long)rows * cols;
        string shape = $"rows·cols = {rows}·{cols}";
        if (x.Length != size) ThrowHelper.ThrowLengthMismatch(op, nameof(x), x.Length, size, shape);
        if (y.Length != size) ThrowHelper.ThrowLengthMismatch(op, nameof(y), y.Length, size, shape);
        if (gamma.Length != cols) ThrowHelper.ThrowLengthMismatch(op, nameof(gamma), gamma.Length, cols, "cols");
        if (beta.Length != cols) ThrowHelper.ThrowLengthMismatch(op, nameof(beta), beta.Length, cols, "cols");
        if (!mean.IsEmpty && mean.Length != rows) ThrowHelper.ThrowLengthMismatch(op, nameof(mean), mean.Length, rows, "rows, or empty");
        if (!rstd.IsEmpty && rstd.Length != rows) ThrowHelper.ThrowLengthMismatch(op, nameof(rstd), rstd.Length, rows, "rows, or empty");
        if (x.Overlaps(y, out int offset) && offset != 0) ThrowHelper.ThrowPartialOverlap(op, nameof(y), nameof(x));
    }
}
