using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>Elementwise activations, in place.</summary>
/// <remarks>
/// <para><b>erf.</b> GELU needs erf, which neither .NET nor TensorPrimitives provides. <see cref="Erf(double)"/> is the
/// rational approximation of Eigen's <c>generic_fast_erf_float</c> (Eigen master,
/// <c>unsupported/Eigen/src/SpecialFunctions/SpecialFunctionsImpl.h</c>, MPL-2.0): an odd degree-9 numerator over an
/// even degree-12 denominator, for |x| &lt; c = erfinv(1 − 2⁻²³) ≈ 3.8325, and ±1 beyond (where erf rounds to ±1 in
/// float32 anyway):
/// <code>
///   erf(x) ≈ x·P(x²)/Q(x²),  P(t) = α₁ + α₃t + α₅t² + α₇t³ + α₉t⁴,  Q(t) = 1 + β₂t + β₄t² + … + β₁₂t⁶   (|x| &lt; c)
///   erf(x) = sign(x)                                                                          (|x| ≥ c)
/// </code>
/// Eigen evaluates it in float32 (quoted as 3 ulp); evaluated in float32 here it was off by up to 3.4e-7, which GELU
/// multiplies by |x|/2 (→ 1.1e-6 near x = 5.3). So the kernels evaluate it in float64 (widening each float vector into
/// two double vectors): the approximation itself is then the only error, 2.1e-8 on [0, c]. Measured against a float64
/// erf (tests/Kernels/ActivationsTests.cs, 2·10⁶ points on [−10, 10]): max |erf error| 6.0e-8 after rounding to
/// float32 (at the clamp), and max |GELU error| 2.9e-7 (at x ≈ 4.96, where half an ulp of the output is 2.4e-7) on
/// every vector path and the scalar path. Where the clamp sets 1 + erf to 0 (x ≤ −c√2 ≈ −5.42) the true x·Φ(x) is at
/// most 1.6e-7 in magnitude.</para>
/// <para>Cost: ≈0.2 ms for a 128×1536 FFN activation on one AVX-512 core (≈1 element/ns, the double division
/// dominating), against ≈1.5 ms for the GEMM that produces it.
/// Ops are vectorised on the <see cref="VectorPaths.Active"/> path with a scalar tail using the same formula.
/// <see cref="Relu"/> is built from <see cref="TensorPrimitives"/>.</para>
/// </remarks>
public static unsafe partial class Activations
{
    const double InvSqrt2 = 0.70710678118654752440;
    /// <summary>erfinv(1 − 2⁻²³): beyond it erf(x) is ±1 to float32 precision.</summary>
    const double ErfClamp = 3.832506856900711;
    const double Alpha1 = 1.128379143519084, Alpha3 = 0.18520832239976145, Alpha5 = 0.050955695062380861,
        Alpha7 = 0.0034082910107109506, Alpha9 = 0.00022905065861350646;
    const double Beta2 = 0.49746925110067538, Beta4 = 0.11098505178285362, Beta6 = 0.014070470171167667,
        Beta8 = 0.0010179625278914885, Beta10 = 0.000023547966471313185, Beta12 = -1.1791602954361697e-7;

    /// <summary>GELU, exact erf form: x·½(1 + erf(x/√2)).</summary>
    /// <remarks>BERT's <c>hidden_act = "gelu"</c> (PyTorch <c>F.gelu</c>, approximate='none'), computed as
    /// ½x·erf(x/√2) + ½x in float64 and rounded once. +∞ gives +∞; −∞ gives NaN (−∞·0); NaN gives NaN.</remarks>
    public static void Gelu(Span<float> x)
    {
        fixed (float* p = x) Gelu(p, x.Length, VectorPaths.Active);
    }

    /// <summary><see cref="Gelu(Span{float})"/> on x[0..n) with the vector path given (a GEMM epilogue on a worker
    /// thread passes its caller's path).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // compiled optimised at once: tier-0 code of this loop (SIMD helpers not inlined) is many times slower, and tier-up can lag for seconds in a one-processor process (bench/RESULTS.md)
    internal static void Gelu(float* x, int n, VectorPath path)
    {
        int done = path switch
        {
            VectorPath.Vector512 => GeluVector<Vector512<float>, Vector512<double>, Simd512>(x, n),
            VectorPath.Vector256 => GeluVector<Vector256<float>, Vector256<double>, Simd256>(x, n),
            VectorPath.Vector128 => GeluVector<Vector128<float>, Vector128<double>, Simd128>(x, n),
            _ => 0,
        };
        for (int i = done; i < n; i++) x[i] = Gelu(x[i]);
    }

    /// <summary>GELU, tanh approximation (gelu_new, gelu_pytorch_tanh).</summary>
    /// <remarks>
    /// ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), evaluated as the identical x·σ(2u) = x / (1 + e^(−2u)) (σ the
    /// logistic function), which avoids the cancellation of 1 + tanh(u) for negative x; e^(−2u) from the Cephes exp of
    /// <see cref="Internal.VectorMath"/> (one ulp). Vectorised on the <see cref="VectorPaths.Active"/> path with a
    /// scalar tail using the same steps. +∞ gives +∞; −∞ gives NaN (−∞/∞); NaN gives NaN.
    /// </remarks>
    public static void GeluTanh(Span<float> x)
    {
        fixed (float* p = x) GeluTanh(p, x.Length, VectorPaths.Active);
    }

    const float TwoK0 = 2f * 0.7978845608028654f;                 // 2·√(2/π)
    const float TwoK1 = 2f * 0.7978845608028654f * 0.044715f;

    /// <summary><see cref="GeluTanh(Span{float})"/> on x[0..n) with the vector path given (GEMM epilogues).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // compiled optimised at once: tier-0 code of this loop (SIMD helpers not inlined) is many times slower, and tier-up can lag for seconds in a one-processor process (bench/RESULTS.md)
    internal static void GeluTanh(float* x, int n, VectorPath path)
    {
        int done = path switch
        {
            VectorPath.Vector512 => GeluTanhVector<Vector512<float>, Simd512>(x, n),
            VectorPath.Vector256 => GeluTanhVector<Vector256<float>, Simd256>(x, n),
            VectorPath.Vector128 => GeluTanhVector<Vector128<float>, Simd128>(x, n),
            _ => 0,
        };
        for (int i = done; i < n; i++) x[i] = GeluTanh(x[i]);
    }

    /// <summary>Scalar GELU (tanh form), the same steps as the vector path.</summary>
    public static float GeluTanh(float x)
    {
        float z = (TwoK1 * (x * x) + TwoK0) * x;                     // 2u
        return x / (1f + VectorMath.Exp(-z));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // compiled optimised at once: tier-0 code of this loop (SIMD helpers not inlined) is many times slower, and tier-up can lag for seconds in a one-processor process (bench/RESULTS.md)
    static int GeluTanhVector<TV, TOps>(float* x, int n) where TV : struct where TOps : struct, ISimdOps<TV>
    {
        int w = TOps.Count, i = 0;
        for (; i <= n - w; i += w)
        {
            TV v = TOps.Load(x + i);
            TV z = TOps.Multiply(TOps.Add(TOps.Multiply(TOps.Create(TwoK1), TOps.Multiply(v, v)), TOps.Create(TwoK0)), v);
            TV e = VectorMath.Exp<TV, TOps>(TOps.Subtract(TOps.Zero, z));
            TOps.Store(x + i, TOps.Divide(v, TOps.Add(TOps.Create(1f), e)));
        }
        return i;
    }

    /// <summary>max(0, x).</summary>
    /// <remarks>NaN stays NaN (<see cref="TensorPrimitives.Max{T}(ReadOnlySpan{T}, T, Span{T})"/> propagates it).</remarks>
    public static void Relu(Span<float> x) => TensorPrimitives.Max(x, 0f, x);

    /// <summary>Scalar GELU (erf form), the same float64 evaluation as the vector path.</summary>
    public static float Gelu(float x)
    {
        double halfX = 0.5 * x;
        return (float)(halfX * Erf(x * InvSqrt2) + halfX);
    }

    /// <summary>Scalar reference for <see cref="Gelu(Span{float})"/>: the same formula element by element.</summary>
    public static void ReferenceGelu(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = Gelu(x[i]);
    }

    /// <summary>erf(x) rounded to float32 (see <see cref="Erf(double)"/>).</summary>
    public static float Erf(float x) => (float)Erf((double)x);

    /// <summary>erf(x) by the rational approximation described on <see cref="Activations"/> (absolute error ≤ 2.1e-8:
    /// float32 accuracy, not float64).</summary>
    public static double Erf(double x)
    {
        if (!(Math.Abs(x) < ErfClamp)) return double.IsNaN(x) ? x : Math.CopySign(1.0, x);
        double t = x * x;
        double p = (((Alpha9 * t + Alpha7) * t + Alpha5) * t + Alpha3) * t + Alpha1;
        double q = (((((Beta12 * t + Beta10) * t + Beta8) * t + Beta6) * t + Beta4) * t + Beta2) * t + 1.0;
        return x * p / q;
    }

    /// <summary>Vector GELU over the whole vectors of x[0..n); returns how many elements it did.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // compiled optimised at once: tier-0 code of this loop (SIMD helpers not inlined) is many times slower, and tier-up can lag for seconds in a one-processor process (bench/RESULTS.md)
    static int GeluVector<TV, TVd, TOps>(float* x, int n)
        where TV : struct where TVd : struct where TOps : struct, ISimdOps<TV>, IWideningOps<TV, TVd>
    {
        int w = TOps.Count, i = 0;
        for (; i <= n - w; i += w)
        {
            var (lo, hi) = TOps.Widen(TOps.Load(x + i));
            TOps.Store(x + i, TOps.Narrow(GeluDouble<TV, TVd, TOps>(lo), GeluDouble<TV, TVd, TOps>(hi)));
        }
        return i;
    }

    /// <summary>½x·erf(x/√2) + ½x on a double vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static TVd GeluDouble<TV, TVd, TOps>(TVd x)
        where TV : struct where TVd : struct where TOps : struct, ISimdOps<TV>, IWideningOps<TV, TVd>
    {
        TVd halfX = TOps.MultiplyDouble(x, TOps.CreateDouble(0.5));
        TVd e = Erf<TV, TVd, TOps>(TOps.MultiplyDouble(x, TOps.CreateDouble(InvSqrt2)));
        return TOps.MultiplyAddDouble(halfX, e, halfX);
    }

    /// <summary>Vector erf, lane by lane the same formula as <see cref="Erf(double)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TVd Erf<TV, TVd, TOps>(TVd x)
        where TV : struct where TVd : struct where TOps : struct, ISimdOps<TV>, IWideningOps<TV, TVd>
    {
        TVd t = TOps.MultiplyDouble(x, x);
        TVd p = TOps.MultiplyAddDouble(TOps.CreateDouble(Alpha9), t, TOps.CreateDouble(Alpha7));
        p = TOps.MultiplyAddDouble(p, t, TOps.CreateDouble(Alpha5));
        p = TOps.MultiplyAddDouble(p, t, TOps.CreateDouble(Alpha3));
        p = TOps.MultiplyAddDouble(p, t, TOps.CreateDouble(Alpha1));
        TVd q = TOps.MultiplyAddDouble(TOps.CreateDouble(Beta12), t, TOps.CreateDouble(Beta10));
        q = TOps.MultiplyAddDouble(q, t, TOps.CreateDouble(Beta8));
        q = TOps.MultiplyAddDouble(q, t, TOps.CreateDouble(Beta6));
        q = TOps.MultiplyAddDouble(q, t, TOps.CreateDouble(Beta4));
        q = TOps.MultiplyAddDouble(q, t, TOps.CreateDouble(Beta2));
        q = TOps.MultiplyAddDouble(q, t, TOps.CreateDouble(1.0));
        TVd r = TOps.DivideDouble(TOps.MultiplyDouble(x, p), q);
        // |x| ≥ c → ±1 (also for ±∞, where r is NaN); NaN fails the compare and keeps r = NaN
        TVd one = TOps.CreateDouble(1.0);
        return TOps.SelectGreaterOrEqualDouble(TOps.AbsDouble(x), TOps.CreateDouble(ErfClamp), TOps.CopySignDouble(one, x), r);
    }
}
