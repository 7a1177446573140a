using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>
/// The increment of the erf GELU, g(z + Δ) − g(z) with g(z) = z Φ(z), for a row of pre-activations z and small
/// changes Δ, without the cancellation of subtracting two GELU outputs:
/// <code>
/// g(z + Δ) − g(z) = Δ Φ(z) + (z + Δ) [Φ(z + Δ) − Φ(z)],   Φ(z + Δ) − Φ(z) = ∫_z^{z+Δ} φ(t) dt
/// </code>
/// Φ(z) is given (computed once per base row and shared by all of its perturbations); the integral is 3-point
/// Gauss–Legendre quadrature, three exp of float32 per element (<see cref="Internal.VectorMath"/>, one ulp) and no erf.
/// Quadrature error: Δ⁷/2 016 000 · max|φ⁽⁶⁾| ≤ 3e-6·Δ⁷, i.e. at most 2e-8 absolute (1e-7 relative) at |Δ| = ½
/// and far less below. The two terms are each of the order of Δ and do not cancel catastrophically, so float32 keeps
/// ~1e-7 relative to |Δ|. Elements with |Δ| &gt; ½ are recomputed in float64 from erf.
/// </summary>
/// <remarks>
/// Used for Value Zeroing's n² perturbed FFN rows (Mohebbi et al. 2023), where the increment, not the activation,
/// is what the analysis needs. Vectorised on the requested path (Vector512 / Vector256 / Vector128) with a scalar
/// tail; the paths evaluate the same formula.
/// </remarks>
public static unsafe class GeluIncrement
{
    const double InvSqrt2Pi = 0.39894228040143267794;
    const float HalfNode = 0.38729833462074170f;   // ½·√(3/5): the outer nodes at the midpoint ± ½√(3/5)·Δ
    const float W0 = 8f / 9f, W1 = 5f / 9f;        // Gauss–Legendre weights
    const float Scale = (float)(0.5 * InvSqrt2Pi); // ½ (panel half-width factor) · 1/√(2π)

    /// <summary>Widest |Δ| integrated by quadrature; beyond it the increment is computed directly in float64.</summary>
    public const float QuadratureWidth = 0.5f;

    /// <summary>result[k] = gelu(z[k] + Δ[k]) − gelu(z[k]) on the <see cref="VectorPaths.Active"/> path.</summary>
    /// <param name="z">base pre-activations [f].</param>
    /// <param name="phiZ">Φ(z) [f].</param>
    /// <param name="delta">Δ [f].</param>
    /// <param name="result">the increments [f]; must not overlap <paramref name="delta"/>.</param>
    /// <exception cref="ArgumentException">the spans differ in length.</exception>
    public static void Erf(ReadOnlySpan<float> z, ReadOnlySpan<float> phiZ, ReadOnlySpan<float> delta, Span<float> result) =>
        Erf(z, phiZ, delta, result, VectorPaths.Active);

    /// <summary>As <see cref="Erf(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> on at most
    /// the path given (narrowed to what the hardware accelerates); tests compare the paths.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // see Activations.Gelu: tier-0 code of this loop is many times slower
    public static void Erf(ReadOnlySpan<float> z, ReadOnlySpan<float> phiZ, ReadOnlySpan<float> delta, Span<float> result, VectorPath path)
    {
        int n = z.Length;
        if (phiZ.Length != n || delta.Length != n || result.Length != n)
            throw new ArgumentException($"GeluIncrement.Erf: lengths differ (z {n}, phiZ {phiZ.Length}, delta {delta.Length}, result {result.Length})");
        if (path > VectorPaths.Detected) path = VectorPaths.Detected;
        fixed (float* pz = z, pp = phiZ, pd = delta, pr = result)
        {
            int done = path switch
            {
                VectorPath.Vector512 => Quadrature<Vector512<float>, Simd512>(pz, pp, pd, pr, n),
                VectorPath.Vector256 => Quadrature<Vector256<float>, Simd256>(pz, pp, pd, pr, n),
                VectorPath.Vector128 => Quadrature<Vector128<float>, Simd128>(pz, pp, pd, pr, n),
                _ => 0,
            };
            for (int k = done; k < n; k++) pr[k] = Quadrature(pz[k], pp[k], pd[k]);
        }
        if (n == 0 || Math.Abs(TensorPrimitives.MaxMagnitude(delta)) <= QuadratureWidth) return;   // MaxMagnitude keeps the sign
        for (int k = 0; k < n; k++)
        {
            double dk = delta[k];
            if (Math.Abs(dk) <= QuadratureWidth) continue;
            double zk = z[k];
            result[k] = (float)((zk + dk) * Phi(zk + dk) - zk * Phi(zk));
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int Quadrature<TV, TOps>(float* z, float* phiZ, float* delta, float* result, int n)
        where TV : struct where TOps : struct, ISimdOps<TV>
    {
        int w = TOps.Count, k = 0;
        TV half = TOps.Create(0.5f), minusHalf = TOps.Create(-0.5f), halfNode = TOps.Create(HalfNode);
        TV w0 = TOps.Create(W0), w1 = TOps.Create(W1), scale = TOps.Create(Scale);
        for (; k <= n - w; k += w)
        {
            TV zz = TOps.Load(z + k), dd = TOps.Load(delta + k);
            TV m = TOps.MultiplyAdd(dd, half, zz);                 // panel midpoint z + Δ/2
            TV h = TOps.Multiply(dd, halfNode);
            TV t1 = TOps.Subtract(m, h), t2 = TOps.Add(m, h);
            TV e0 = VectorMath.Exp<TV, TOps>(TOps.Multiply(TOps.Multiply(m, m), minusHalf));
            TV e1 = VectorMath.Exp<TV, TOps>(TOps.Multiply(TOps.Multiply(t1, t1), minusHalf));
            TV e2 = VectorMath.Exp<TV, TOps>(TOps.Multiply(TOps.Multiply(t2, t2), minusHalf));
            TV integral = TOps.Multiply(TOps.MultiplyAdd(e0, w0, TOps.Multiply(TOps.Add(e1, e2), w1)), TOps.Multiply(dd, scale));
            TOps.Store(result + k, TOps.MultiplyAdd(dd, TOps.Load(phiZ + k), TOps.Multiply(TOps.Add(zz, dd), integral)));
        }
        return k;
    }

    /// <summary>Scalar form of the vector loop (float64, for tails and the scalar path).</summary>
    static float Quadrature(double z, double phiZ, double delta)
    {
        double m = z + 0.5 * delta, h = HalfNode * delta;
        double integral = (W0 * Math.Exp(-0.5 * m * m) + W1 * (Math.Exp(-0.5 * (m - h) * (m - h)) + Math.Exp(-0.5 * (m + h) * (m + h)))) * delta * Scale;
        return (float)(delta * phiZ + (z + delta) * integral);
    }

    /// <summary>Standard normal CDF Φ(x) = ½(1 + erf(x/√2)) via <see cref="Activations.Erf(double)"/> (|error| ≤ 1.1e-8).</summary>
    public static double Phi(double x) => 0.5 * (1 + Activations.Erf(x * 0.70710678118654752440));
}
