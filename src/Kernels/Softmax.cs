using System.Runtime.CompilerServices;
using System.Numerics.Tensors;
using System.Runtime.Intrinsics;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>Row softmax for attention probabilities.</summary>
public static unsafe class Softmax
{
    /// <summary>
    /// In place, each of <paramref name="rows"/> rows of length <paramref name="cols"/>: max-subtracted softmax;
    /// -inf entries become 0; a row that is entirely -inf becomes all zeros.
    /// </summary>
    /// <remarks>
    /// Three passes per row, as MLAS's three softmax kernels (reduce-max, sum-exp, output):
    /// <code>
    ///   (1) μ = max_j x_j                              TensorPrimitives.Max
    ///   (2) e_j = exp(x_j − μ),  s = Σ_j e_j            one fused pass on the active vector path
    ///   (3) p_j = e_j · (1/s)                          TensorPrimitives.Multiply
    /// </code>
    /// e_j ∈ [0, 1] and the max gives 1, so s ≥ 1: no overflow and no 0/0. exp is the vectorised Cephes expf of
    /// <c>VectorMath</c> (1 ulp), fused with the sum. <c>TensorPrimitives.SoftMax</c> is
    /// not used because it does not subtract the max. A row whose max is -∞ (fully masked) is written as zeros instead
    /// of the 0/0 = NaN the formula gives. A NaN anywhere in a row makes the whole row NaN; a +∞ entry also gives NaN
    /// (∞ − ∞).
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not rows·cols long.</exception>
    public static void Rows(Span<float> x, int rows, int cols)
    {
        Validate(nameof(Rows), x.Length, rows, cols);
        if (cols == 0) return;
        VectorPath path = VectorPaths.Active;
        fixed (float* px = x)
        {
            for (int r = 0; r < rows; r++)
            {
                var row = x.Slice(r * cols, cols);
                float* pr = px + (nint)r * cols;
                float max = TensorPrimitives.Max(row);                                      // (1)
                if (float.IsNegativeInfinity(max))
                {
                    row.Clear();                                                            // fully masked: zeros, not NaN
                    continue;
                }
                float sum = path switch                                                     // (2)
                {
                    VectorPath.Vector512 => ExpSum<Vector512<float>, Simd512>(pr, cols, max),
                    VectorPath.Vector256 => ExpSum<Vector256<float>, Simd256>(pr, cols, max),
                    VectorPath.Vector128 => ExpSum<Vector128<float>, Simd128>(pr, cols, max),
                    _ => ExpSumScalar(pr, 0, cols, max, 0f),
                };
                TensorPrimitives.Multiply(row, 1f / sum, row);                              // (3)
            }
        }
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
