using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>Row softmax for attention probabilities.</summary>
public static unsafe partial class Softmax
{
    /// <summary>
    /// In place, each of <paramref name="rows"/> rows of length <paramref name="cols"/>: max-subtracted softmax;
    /// -inf entries become 0; a row that is entirely -inf becomes all zeros.
    /// </summary>
    /// <remarks>
    /// Three passes per row, as MLAS's three softmax kernels (reduce-max, sum-exp, output), each on the active vector path:
    /// <code>
    ///   (1) μ = max_j x_j                              RowMax
    ///   (2) e_j = exp(x_j − μ),  s = Σ_j e_j            ExpSum, one fused pass
    ///   (3) p_j = e_j · (1/s)                          Scale
    /// </code>
    /// This method and the three loops are compiled optimised at once (<c>AggressiveOptimization</c>), and (1) and (3)
    /// are our own loops rather than <c>TensorPrimitives.Max</c> / <c>Multiply</c>: those generic library methods start
    /// as tier-0 code, and in a one-processor process (the peers worker pinned with taskset, DOTNET_PROCESSOR_COUNT=1)
    /// their tier-up lagged for seconds, in some processes past a 2 s warm-up and 5 timing rounds. With them (and the
    /// GEMM's packing loop, <c>Gemm.PackPanels</c>) at tier 0, the MiniLM n = 128 forward took 20–25 ms instead of
    /// 15–16 ms; <c>perf record</c> of such a process put ~12 % of the time in tier-0 TensorPrimitives code called from here.
    /// e_j ∈ [0, 1] and the max gives 1, so s ≥ 1: no overflow and no 0/0. exp is the vectorised Cephes expf of
    /// <c>VectorMath</c> (1 ulp), fused with the sum. <c>TensorPrimitives.SoftMax</c> is
    /// not used because it does not subtract the max. A row whose max is -∞ (fully masked) is written as zeros instead
    /// of the 0/0 = NaN the formula gives. A NaN anywhere in a row makes the whole row NaN; a +∞ entry also gives NaN
    /// (∞ − ∞).
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not rows·cols long.</exception>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see remarks: not left to tier-up, which can lag for seconds in a one-processor process
    public static void Rows(Span<float> x, int rows, int cols)
    {
        Validate(nameof(Rows), x.Length, rows, cols);
        if (cols == 0) return;
        VectorPath path = VectorPaths.Active;
        fixed (float* px = x)
        {
            for (int r = 0; r < rows; r++)
            {
                float* pr = px + (nint)r * cols;
                float max = path switch                                                     // (1)
                {
                    VectorPath.Vector512 => RowMax<Vector512<float>, Simd512>(pr, cols),
                    VectorPath.Vector256 => RowMax<Vector256<float>, Simd256>(pr, cols),
                    VectorPath.Vector128 => RowMax<Vector128<float>, Simd128>(pr, cols),
                    _ => RowMaxScalar(pr, 0, cols, float.NegativeInfinity),
                };
                if (float.IsNegativeInfinity(max))
                {
                    new Span<float>(pr, cols).Clear();                                      // fully masked: zeros, not NaN
                    continue;
                }
                float sum = path switch                                                     // (2)
                {
                    VectorPath.Vector512 => ExpSum<Vector512<float>, Simd512>(pr, cols, max),
                    VectorPath.Vector256 => ExpSum<Vector256<float>, Simd256>(pr, cols, max),
                    VectorPath.Vector128 => ExpSum<Vector128<float>, Simd128>(pr, cols, max),
                    _ => ExpSumScalar(pr, 0, cols, max, 0f),
                };
                float scale = 1f / sum;
                switch (path)                                                               // (3)
                {
                    case VectorPath.Vector512: Scale<Vector512<float>, Simd512>(pr, cols, scale); break;
                    case VectorPath.Vector256: Scale<Vector256<float>, Simd256>(pr, cols, scale); break;
                    case VectorPath.Vector128: Scale<Vector128<float>, Simd128>(pr, cols, scale); break;
                    default: ScaleScalar(pr, 0, cols, scale); break;
                }
            }
        }
    }

    /// <summary>max_j x_j of the row (n ≥ 1); NaN if any x_j is NaN, as <see cref="Math.Max(float, float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see Rows: not left to tier-up
    static float RowMax<TV, TOps>(float* x, int n) where TV : struct where TOps : struct, ISimdOps<TV>
    {
        int w = TOps.Count;
        if (n < w) return RowMaxScalar(x, 0, n, float.NegativeInfinity);
        TV m0 = TOps.Load(x), m1 = m0;
        int i = w;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            m0 = TOps.Max(m0, TOps.Load(x + i));
            m1 = TOps.Max(m1, TOps.Load(x + i + w));
        }
        if (i <= n - w)
        {
            m0 = TOps.Max(m0, TOps.Load(x + i));
            i += w;
        }
        float* lanes = stackalloc float[16];
        TOps.Store(lanes, TOps.Max(m0, m1));
        return RowMaxScalar(x, i, n, RowMaxScalar(lanes, 0, w, float.NegativeInfinity));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see Rows: not left to tier-up
    static float RowMaxScalar(float* x, int start, int n, float max)
    {
        for (int i = start; i < n; i++) max = Math.Max(max, x[i]);
        return max;
    }

    /// <summary>x_j ← x_j · s for the row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see Rows: not left to tier-up
    static void Scale<TV, TOps>(float* x, int n, float s) where TV : struct where TOps : struct, ISimdOps<TV>
    {
        int w = TOps.Count, i = 0;
        TV vs = TOps.Create(s);
        for (; i <= n - w; i += w) TOps.Store(x + i, TOps.Multiply(TOps.Load(x + i), vs));
        ScaleScalar(x, i, n, s);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see Rows: not left to tier-up
    static void ScaleScalar(float* x, int start, int n, float s)
    {
        for (int i = start; i < n; i++) x[i] *= s;
    }

    /// <summary>x_j ← exp(x_j − max) for the row, returning Σ_j of the new values.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // compiled optimised at once: tier-0 code of this loop (SIMD helpers not inlined) is many times slower, and tier-up can lag for seconds in a one-processor process (bench/RESULTS.md)
    static float ExpSum<TV, TOps>(float* x, int n, float max) where TV : struct where TOps : struct, ISimdOps<TV>
    {
        int w = TOps.Count, i = 0;
        TV vmax = TOps.Create(max), s0 = TOps.Zero, s1 = TOps.Zero;
        for (; i <= n - 2 * w; i += 2 * w)
        {
            TV e0 = VectorMath.Exp<TV, TOps>(TOps.Subtract(TOps.Load(x + i), vmax));
            TV e1 = VectorMath.Exp<TV, TOps>(TOps.Subtract(TOps.Load(x + i + w), vmax));
            TOps.Store(x + i, e0);
            TOps.Store(x + i + w, e1);
            s0 = TOps.Add(s0, e0);
            s1 = TOps.Add(s1, e1);
        }
        if (i <= n - w)
        {
            TV e0 = VectorMath.Exp<TV, TOps>(TOps.Subtract(TOps.Load(x + i), vmax));
            TOps.Store(x + i, e0);
            s0 = TOps.Add(s0, e0);
            i += w;
        }
        return ExpSumScalar(x, i, n, max, TOps.Sum(TOps.Add(s0, s1)));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // compiled optimised at once: tier-0 code of this loop (SIMD helpers not inlined) is many times slower, and tier-up can lag for seconds in a one-processor process (bench/RESULTS.md)
    static float ExpSumScalar(float* x, int start, int n, float max, float sum)
    {
        for (int i = start; i < n; i++)
        {
            float e = VectorMath.Exp(x[i] - max);
            x[i] = e;
            sum += e;
        }
        return sum;
    }

    /// <summary>
    /// Scalar reference: p_j = exp(x_j − max) / Σ_k exp(x_k − max), computed in float64; a fully -∞ row gives zeros.
    /// </summary>
    public static void Reference(Span<float> x, int rows, int cols)
    {
        Validate(nameof(Reference), x.Length, rows, cols);
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            double max = double.NegativeInfinity;
            foreach (float v in row) max = Math.Max(max, v);
            if (double.IsNegativeInfinity(max)) { row.Clear(); continue; }
            double sum = 0;
            foreach (float v in row) sum += Math.Exp(v - max);
            for (int j = 0; j < cols; j++) row[j] = (float)(Math.Exp(row[j] - max) / sum);
        }
    }

    static void Validate(string op, int length, int rows, int cols)
    {
        if (rows < 0) ThrowHelper.ThrowNegativeDimension(op, nameof(rows), rows);
        if (cols < 0) ThrowHelper.ThrowNegativeDimension(op, nameof(cols), cols);
        if (length != (long)rows * cols) ThrowHelper.ThrowLengthMismatch(op, "x", length, (long)rows * cols, $"rows·cols = {rows}·{cols}");
    }
}
