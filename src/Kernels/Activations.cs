using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>Elementwise activations, in place.</summary>
/// <remarks>
/// <para><b>erf.</b> GELU needs erf, which neither .NET nor TensorPrimitives provides. <see cref="Erf(float)"/> is the
/// rational approximation of Eigen's <c>generic_fast_erf_float</c> (Eigen 3.4.90+,
/// <c>unsupported/Eigen/src/SpecialFunctions/SpecialFunctionsImpl.h</c>; MPL-2.0): an odd degree-9 numerator over an even
/// degree-12 denominator in x, documented there as accurate to 3 ulp for |x| &lt; c = erfinv(1 − 2⁻²³) ≈ 3.8325,
/// and ±1 beyond (where erf rounds to ±1 in float32 anyway):
/// <code>
///   erf(x) ≈ x·P(x²)/Q(x²),  P(t) = α₁ + α₃t + α₅t² + α₇t³ + α₉t⁴,  Q(t) = 1 + β₂t + … + β₁₂t⁶     (|x| &lt; c)
///   erf(x) = sign(x)                                                                           (|x| ≥ c)
/// </code>
/// Measured here against a float64 erf (tests/Kernels/ActivationsTests.cs, 2·10⁶ points on [−10, 10]):
/// max |erf error| ≈ 1.8e-7 (2 ulp at 1) and max |GELU error| ≈ 4.8e-7 on every vector path, about one ulp of the
/// largest outputs.</para>
/// <para>Ops are vectorised on the <see cref="VectorPaths.Active"/> path with a scalar tail using the same formula, so
/// results do not depend on where an element falls. <see cref="GeluTanh"/> and <see cref="Relu"/> are built from
/// <see cref="TensorPrimitives"/>.</para>
/// </remarks>
public static unsafe class Activations
{
    const float InvSqrt2 = 0.70710678118654752f;
    /// <summary>erfinv(1 − 2⁻²³): beyond it erf(x) is ±1 to float32 precision.</summary>
    const float ErfClamp = 3.832506856900711f;
    const float Alpha1 = 1.128379143519084f, Alpha3 = 0.18520832239976145f, Alpha5 = 0.050955695062380861f,
        Alpha7 = 0.0034082910107109506f, Alpha9 = 0.00022905065861350646f;
    const float Beta2 = 0.49746925110067538f, Beta4 = 0.11098505178285362f, Beta6 = 0.014070470171167667f,
        Beta8 = 0.0010179625278914885f, Beta10 = 0.000023547966471313185f, Beta12 = -1.1791602954361697e-7f;

    /// <summary>GELU, exact erf form: x·½(1 + erf(x/√2)).</summary>
    /// <remarks>BERT's <c>hidden_act = "gelu"</c> (PyTorch <c>F.gelu</c>, approximate='none'). +∞ gives +∞;
    /// NaN gives NaN; −∞ gives NaN (−∞·0).</remarks>
    public static void Gelu(Span<float> x)
    {
        fixed (float* p = x)
        {
            int done = VectorPaths.Active switch
            {
                VectorPath.Vector512 => GeluVector<Vector512<float>, Simd512>(p, x.Length),
                VectorPath.Vector256 => GeluVector<Vector256<float>, Simd256>(p, x.Length),
                VectorPath.Vector128 => GeluVector<Vector128<float>, Simd128>(p, x.Length),
                _ => 0,
            };
            for (int i = done; i < x.Length; i++) p[i] = Gelu(p[i]);
        }
    }

    /// <summary>GELU, tanh approximation (gelu_new, gelu_pytorch_tanh).</summary>
    /// <remarks>
    /// ½x(1 + tanh(u)), u = √(2/π)(x + 0.044715x³), evaluated as the identical x·σ(2u) (σ the logistic function, from
    /// <see cref="TensorPrimitives.Sigmoid{T}(ReadOnlySpan{T}, Span{T})"/>), which avoids the cancellation of 1 + tanh(u) for
    /// negative x. Works through a 1 KiB stack buffer in chunks.
    /// </remarks>
    public static void GeluTanh(Span<float> x)
    {
        const float TwoK0 = 2f * 0.7978845608028654f;          // 2·√(2/π)
        const float TwoK1 = 2f * 0.7978845608028654f * 0.044715f;
        Span<float> z = stackalloc float[256];
        for (int start = 0; start < x.Length; start += z.Length)
        {
            var xc = x.Slice(start, Math.Min(z.Length, x.Length - start));
            var zc = z[..xc.Length];
            TensorPrimitives.Multiply(xc, xc, zc);             // x²
            TensorPrimitives.Multiply(zc, TwoK1, zc);
            TensorPrimitives.Add(zc, TwoK0, zc);               // 2·√(2/π)(1 + 0.044715x²)
            TensorPrimitives.Multiply(zc, xc, zc);             // 2u
            TensorPrimitives.Sigmoid(zc, zc);                  // σ(2u) = ½(1 + tanh u)
            TensorPrimitives.Multiply(xc, zc, xc);             // x·σ(2u)
        }
    }

    /// <summary>max(0, x).</summary>
    /// <remarks>NaN stays NaN (<see cref="TensorPrimitives.Max{T}(ReadOnlySpan{T}, T, Span{T})"/> propagates it).</remarks>
    public static void Relu(Span<float> x) => TensorPrimitives.Max(x, 0f, x);

    /// <summary>Scalar GELU (erf form) with the same erf approximation as the vector path.</summary>
    public static float Gelu(float x) => 0.5f * x * (1f + Erf(x * InvSqrt2));

    /// <summary>Scalar reference for <see cref="Gelu(Span{float})"/>: the same formula element by element.</summary>
    public static void ReferenceGelu(Span<float> x)
    {
        for (int i = 0; i < x.Length; i++) x[i] = Gelu(x[i]);
    }

    /// <summary>erf(x) in float32, the rational approximation described on <see cref="Activations"/>.</summary>
    public static float Erf(float x)
    {
        if (!(MathF.Abs(x) < ErfClamp)) return float.IsNaN(x) ? x : MathF.CopySign(1f, x);
        float t = x * x;
        float p = Alpha9;
        p = p * t + Alpha7;
        p = p * t + Alpha5;
        p = p * t + Alpha3;
        p = p * t + Alpha1;
        float q = Beta12;
        q = q * t + Beta10;
        q = q * t + Beta8;
        q = q * t + Beta6;
        q = q * t + Beta4;
        q = q * t + Beta2;
        q = q * t + 1f;
        return x * p / q;
    }

    /// <summary>Vector GELU over the whole vectors of x[0..n); returns how many elements it did.</summary>
    static int GeluVector<TV, TOps>(float* x, int n) where TV : struct where TOps : struct, ISimdOps<TV>
    {
        int w = TOps.Count, i = 0;
        TV half = TOps.Create(0.5f), one = TOps.Create(1f), invSqrt2 = TOps.Create(InvSqrt2);
        for (; i <= n - w; i += w)
        {
            TV v = TOps.Load(x + i);
            TV e = Erf<TV, TOps>(TOps.Multiply(v, invSqrt2));
            TOps.Store(x + i, TOps.Multiply(TOps.Multiply(half, v), TOps.Add(one, e)));
        }
        return i;
    }

    /// <summary>Vector erf, lane by lane the same formula as <see cref="Erf(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static TV Erf<TV, TOps>(TV x) where TV : struct where TOps : struct, ISimdOps<TV>
    {
        TV t = TOps.Multiply(x, x);
        TV p = TOps.MultiplyAdd(TOps.Create(Alpha9), t, TOps.Create(Alpha7));
        p = TOps.MultiplyAdd(p, t, TOps.Create(Alpha5));
        p = TOps.MultiplyAdd(p, t, TOps.Create(Alpha3));
        p = TOps.MultiplyAdd(p, t, TOps.Create(Alpha1));
        TV q = TOps.MultiplyAdd(TOps.Create(Beta12), t, TOps.Create(Beta10));
        q = TOps.MultiplyAdd(q, t, TOps.Create(Beta8));
        q = TOps.MultiplyAdd(q, t, TOps.Create(Beta6));
        q = TOps.MultiplyAdd(q, t, TOps.Create(Beta4));
        q = TOps.MultiplyAdd(q, t, TOps.Create(Beta2));
        q = TOps.MultiplyAdd(q, t, TOps.Create(1f));
        TV r = TOps.Divide(TOps.Multiply(x, p), q);
        // |x| ≥ c → ±1 (also for ±∞, where r is NaN); NaN fails the compare and keeps r = NaN
        return TOps.SelectGreaterOrEqual(TOps.Abs(x), TOps.Create(ErfClamp), TOps.CopySign(TOps.Create(1f), x), r);
    }
}
