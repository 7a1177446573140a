using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace MixLens.Kernels.Internal;

/// <summary>
/// exp for float vectors, so that softmax can fuse exp with the sum (one pass instead of subtract, exp, sum) on the
/// <see cref="VectorPaths.Active"/> path like the other kernels. On the AVX-512 dev machine (2 busy cores, so rough)
/// softmax over 12×128×128 scores took ≈150 µs this way against ≈260 µs with TensorPrimitives Max/Subtract/Exp/Sum/
/// Multiply; <c>TensorPrimitives.Exp</c> alone cost about 4 multiply passes.
/// </summary>
/// <remarks>
/// Cephes <c>expf</c> (S. L. Moshier, Cephes Math Library 2.2, <c>single/expf.c</c>), vectorised as in sse_mathfun:
/// <code>
///   (1) n = round(x·log₂e)
///   (2) r = x − n·C₁ − n·C₂              C₁ + C₂ = ln 2 split so n·C₁ is exact (C₁ = 0.693359375); |r| ≤ ½ln 2
///   (3) e^r ≈ 1 + r + r²·P(r)            P of degree 5 (Cephes' minimax coefficients)
///   (4) eˣ = e^r · 2ⁿ                    2ⁿ added to the exponent bits
/// </code>
/// Measured max relative error 1.2e-7 (one ulp) on [−87.3, 88.7] on every path (VectorMathTests); the softmax tests
/// check the probabilities to 1e-6 absolute against float64. x &gt; 88.72 gives +∞; x &lt; −87.33 (where eˣ would be subnormal) gives 0, a flush of
/// at most 1.2e-38; −∞ gives 0; NaN gives NaN.
/// </remarks>
internal static unsafe class VectorMath
{
    const float Log2E = 1.44269504088896341f;
    const float C1 = 0.693359375f, C2 = -2.12194440e-4f;
    const float P0 = 1.9875691500e-4f, P1 = 1.3981999507e-3f, P2 = 8.3334519073e-3f,
        P3 = 4.1665795894e-2f, P4 = 1.6666665459e-1f, P5 = 5.0000001201e-1f;
    /// <summary>ln(FLT_MAX): above it eˣ overflows.</summary>
    const float MaxX = 88.7228391f;
    /// <summary>ln(2⁻¹²⁶), the smallest normal float: below it the result is flushed to 0.</summary>
    const float MinX = -87.3365447f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TV Exp<TV, TOps>(TV x) where TV : struct where TOps : struct, ISimdOps<TV>
    {
        TV n = TOps.Round(TOps.Multiply(x, TOps.Create(Log2E)));                              // (1)
        TV r = TOps.MultiplyAdd(n, TOps.Create(-C1), x);                                      // (2)
        r = TOps.MultiplyAdd(n, TOps.Create(-C2), r);
        TV p = TOps.MultiplyAdd(TOps.Create(P0), r, TOps.Create(P1));                         // (3)
        p = TOps.MultiplyAdd(p, r, TOps.Create(P2));
        p = TOps.MultiplyAdd(p, r, TOps.Create(P3));
        p = TOps.MultiplyAdd(p, r, TOps.Create(P4));
        p = TOps.MultiplyAdd(p, r, TOps.Create(P5));
        p = TOps.MultiplyAdd(p, TOps.Multiply(r, r), TOps.Add(r, TOps.Create(1f)));
        TV y = TOps.ScaleByPowerOfTwo(p, n);                                                  // (4)
        y = TOps.SelectLessThan(x, TOps.Create(MinX), TOps.Zero, y);
        return TOps.SelectLessThan(TOps.Create(MaxX), x, TOps.Create(float.PositiveInfinity), y);
    }

    /// <summary>Scalar form of <see cref="Exp{TV, TOps}(TV)"/> (same steps, for tails and tests).</summary>
    public static float Exp(float x)
    {
        if (x < MinX) return 0f;
        if (x > MaxX) return float.PositiveInfinity;
        if (float.IsNaN(x)) return x;
        float n = MathF.Round(x * Log2E);
        float r = x - n * C1 - n * C2;
        float p = ((((P0 * r + P1) * r + P2) * r + P3) * r + P4) * r + P5;
        p = p * (r * r) + (r + 1f);
        return BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(p) + ((int)n << 23));
    }

    /// <summary>y[i] = exp(x[i]) on the active path (tests use it to check the vector code directly).</summary>
    public static void Exp(ReadOnlySpan<float> x, Span<float> y)
    {
        if (y.Length != x.Length) ThrowHelper.ThrowLengthMismatch(nameof(Exp), nameof(y), y.Length, x.Length, "the length of x");
        fixed (float* px = x, py = y)
        {
            int done = VectorPaths.Active switch
            {
                VectorPath.Vector512 => Exp<Vector512<float>, Simd512>(px, py, x.Length),
                VectorPath.Vector256 => Exp<Vector256<float>, Simd256>(px, py, x.Length),
                VectorPath.Vector128 => Exp<Vector128<float>, Simd128>(px, py, x.Length),
                _ => 0,
            };
            for (int i = done; i < x.Length; i++) py[i] = Exp(px[i]);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // compiled optimised at once: tier-0 code of this loop (SIMD helpers not inlined) is many times slower, and tier-up can lag for seconds in a one-processor process (bench/RESULTS.md)
    static int Exp<TV, TOps>(float* x, float* y, int n) where TV : struct where TOps : struct, ISimdOps<TV>
    {
        int w = TOps.Count, i = 0;
        for (; i <= n - w; i += w) TOps.Store(y + i, Exp<TV, TOps>(TOps.Load(x + i)));
        return i;
    }
}
