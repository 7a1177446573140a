using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Analysis.Numerics;

/// <summary>
/// act(z + Δ) − act(z), computed without cancellation for small Δ (float64):
/// <list type="bullet">
/// <item>GELU (erf): g(z) = z Φ(z), so Δg = Δ Φ(z+Δ) + z [Φ(z+Δ) − Φ(z)]. For |Δ| ≤ ½ the bracket is
/// ∫_z^{z+Δ} φ(t) dt by 5-point Gauss–Legendre quadrature (φ is smooth: quadrature error below 1e-9 relative);
/// for wider Δ it is the plain difference, which no longer cancels. Φ comes from erf (absolute error 1e-8; it
/// multiplies Δ, so no cancellation).</item>
/// <item>GELU (tanh): Δg = ½Δ(1 + tanh u′) + ½z (tanh u′ − tanh u), tanh u′ − tanh u = sinh(u′−u) / (cosh u′ cosh u).</item>
/// <item>ReLU: exact.</item>
/// </list>
/// </summary>
public static class ActivationDelta
{
    // Gauss–Legendre 5-point nodes and weights on [−1, 1].
    static readonly double[] Nodes = [0, -0.5384693101056831, 0.5384693101056831, -0.9061798459386640, 0.9061798459386640];
    static readonly double[] Weights = [0.5688888888888889, 0.4786286704993665, 0.4786286704993665, 0.2369268850561891, 0.2369268850561891];
    const double InvSqrt2Pi = 0.39894228040143267794;
    const double Sqrt2OverPi = 0.79788456080286535588;

    /// <summary>Widest |Δ| integrated by quadrature; beyond it Φ(z+Δ) − Φ(z) is computed directly.</summary>
    const float SinglePanelWidth = 0.5f;

    /// <summary>Writes act(z + Δ) − act(z) for each element; <paramref name="scratch"/> needs 2·z.Length floats.</summary>
    public static void Apply(Activation activation, ReadOnlySpan<float> z, ReadOnlySpan<float> delta, Span<float> result, Span<float> scratch)
    {
        switch (activation)
        {
            case Activation.Gelu:
                GeluErf(z, delta, result, scratch);
                break;
            case Activation.GeluTanh:
                for (int k = 0; k < z.Length; k++) result[k] = (float)GeluTanh(z[k], delta[k]);
                break;
            case Activation.Relu:
                for (int k = 0; k < z.Length; k++) result[k] = (float)(Math.Max(0.0, (double)z[k] + delta[k]) - Math.Max(0.0, z[k]));
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(activation));
        }
    }

    /// <summary>
    /// Δg = Δ Φ(z+Δ) + z ΔΦ. ΔΦ for |Δ| ≤ ½ by one 5-point Gauss–Legendre panel evaluated for the whole row at once
    /// (float32 exp of a positive integrand: relative accuracy ~1e-6, no cancellation); for wider Δ, Φ(z+Δ) − Φ(z).
    /// </summary>
    static void GeluErf(ReadOnlySpan<float> z, ReadOnlySpan<float> delta, Span<float> result, Span<float> scratch)
    {
        int n = z.Length;
        var node = scratch[..n];
        var integral = scratch.Slice(n, n);
        integral.Clear();
        for (int q = 0; q < 5; q++)
        {
            float x = (float)(0.5 * (1 + Nodes[q]));
            // t = z + Δ·(1 + x_q)/2;  node = exp(−t²/2)
            for (int k = 0; k < n; k++)
            {
                float t = z[k] + delta[k] * x;
                node[k] = -0.5f * t * t;
            }
            TensorPrimitives.Exp(node, node);
            TensorPrimitives.MultiplyAdd(node, (float)Weights[q], integral, integral);
        }
        for (int k = 0; k < n; k++)
        {
            double zk = z[k], dk = delta[k];
            if (dk == 0) { result[k] = 0; continue; }
            double phiIncrement = Math.Abs(dk) <= SinglePanelWidth
                ? integral[k] * 0.5 * dk * InvSqrt2Pi
                : Phi(zk + dk) - Phi(zk);
            result[k] = (float)(dk * Phi(zk + dk) + zk * phiIncrement);
        }
    }

    /// <summary>
    /// Batched erf-GELU increment for one row, fused into one float32 vector loop: gelu(z + Δ) − gelu(z) =
    /// Δ·Φ(z) + (z + Δ)·[Φ(z + Δ) − Φ(z)], with Φ(z) given (<paramref name="phiZ"/>, computed once per base row and
    /// shared by every perturbation of it) and the bracket ∫_z^{z+Δ} φ by 3-point Gauss–Legendre quadrature (three
    /// exp per element, no erf): its error is Δ⁷/2 016 000 · max|φ⁽⁶⁾| ≤ 3e-6·Δ⁷, i.e. at most 2e-8 absolute
    /// (1e-7 relative) at the widest panel |Δ| = ½ and far less below. The two terms do not cancel catastrophically
    /// (each is of the order of Δ), so float32 keeps ~1e-7 relative to |Δ|. Elements with |Δ| &gt; ½ are recomputed
    /// in float64 from erf.
    /// </summary>
    /// <param name="z">base pre-activations [f].</param>
    /// <param name="phiZ">Φ(z) [f].</param>
    /// <param name="delta">Δ [f].</param>
    /// <param name="result">gelu(z + Δ) − gelu(z) [f]; must not overlap <paramref name="delta"/>.</param>
    /// <exception cref="ArgumentException">the spans differ in length.</exception>
    public static void GeluErfRow(ReadOnlySpan<float> z, ReadOnlySpan<float> phiZ, ReadOnlySpan<float> delta, Span<float> result) =>
        GeluErfRow(z, phiZ, delta, result, VectorPaths.Active);

    /// <summary>As <see cref="GeluErfRow(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>, using
    /// Vector512 and then Vector256 as far as <paramref name="path"/> allows, then scalar for the rest (tests compare the
    /// paths). The Vector512 loop pays where the core has full-width 512-bit units (Zen 5: 1.9× the Vector256 loop,
    /// bench/RESULTS.md); on Zen 4, which splits them, it measured the same. The paths evaluate the same formula; their
    /// exp implementations may differ in the last bits.</summary>
    public static void GeluErfRow(ReadOnlySpan<float> z, ReadOnlySpan<float> phiZ, ReadOnlySpan<float> delta, Span<float> result, VectorPath path)
    {
        int n = z.Length;
        if (phiZ.Length != n || delta.Length != n || result.Length != n)
            throw new ArgumentException($"ActivationDelta.GeluErfRow: lengths differ (z {n}, phiZ {phiZ.Length}, delta {delta.Length}, result {result.Length})");
        const float halfNode = 0.38729833462074170f;   // ½·√(3/5): the outer nodes at the midpoint ± ½√(3/5)·Δ
        const float w0 = 8f / 9f, w1 = 5f / 9f;
        const float scale = (float)(0.5 * InvSqrt2Pi);  // ½ (panel half-width factor) · 1/√(2π)
        bool anyWide = false;
        int k = 0;
        if (path >= VectorPath.Vector512 && Vector512.IsHardwareAccelerated)
        {
            ref float pz = ref MemoryMarshal.GetReference(z);
            ref float pp = ref MemoryMarshal.GetReference(phiZ);
            ref float pd = ref MemoryMarshal.GetReference(delta);
            ref float pr = ref MemoryMarshal.GetReference(result);
            var wide = Vector512<float>.Zero;
            var half = Vector512.Create(0.5f);
            var minusHalf = Vector512.Create(-0.5f);
            for (; k <= n - 16; k += 16)
            {
                var zz = Vector512.LoadUnsafe(ref Unsafe.Add(ref pz, k));
                var dd = Vector512.LoadUnsafe(ref Unsafe.Add(ref pd, k));
                var pzk = Vector512.LoadUnsafe(ref Unsafe.Add(ref pp, k));
                var m = Vector512.FusedMultiplyAdd(dd, half, zz);
                var h = dd * halfNode;
                var t1 = m - h;
                var t2 = m + h;
                var e0 = Vector512.Exp(m * m * minusHalf);
                var e1 = Vector512.Exp(t1 * t1 * minusHalf);
                var e2 = Vector512.Exp(t2 * t2 * minusHalf);
                var dPhi = (e0 * w0 + (e1 + e2) * w1) * (dd * scale);
                var r = Vector512.FusedMultiplyAdd(dd, pzk, (zz + dd) * dPhi);
                r.StoreUnsafe(ref Unsafe.Add(ref pr, k));
                wide |= Vector512.GreaterThan(Vector512.Abs(dd), half);
            }
            anyWide = wide != Vector512<float>.Zero;
        }
        if (path >= VectorPath.Vector256 && Vector256.IsHardwareAccelerated)
        {
            ref float pz = ref MemoryMarshal.GetReference(z);
            ref float pp = ref MemoryMarshal.GetReference(phiZ);
            ref float pd = ref MemoryMarshal.GetReference(delta);
            ref float pr = ref MemoryMarshal.GetReference(result);
            var wide = Vector256<float>.Zero;
            var half = Vector256.Create(0.5f);
            var minusHalf = Vector256.Create(-0.5f);
            for (; k <= n - 8; k += 8)
            {
                var zz = Vector256.LoadUnsafe(ref Unsafe.Add(ref pz, k));
                var dd = Vector256.LoadUnsafe(ref Unsafe.Add(ref pd, k));
                var pzk = Vector256.LoadUnsafe(ref Unsafe.Add(ref pp, k));
                var m = Vector256.FusedMultiplyAdd(dd, half, zz);
                var h = dd * halfNode;
                var t1 = m - h;
                var t2 = m + h;
                var e0 = Vector256.Exp(m * m * minusHalf);
                var e1 = Vector256.Exp(t1 * t1 * minusHalf);
                var e2 = Vector256.Exp(t2 * t2 * minusHalf);
                var dPhi = (e0 * w0 + (e1 + e2) * w1) * (dd * scale);
                var r = Vector256.FusedMultiplyAdd(dd, pzk, (zz + dd) * dPhi);
                r.StoreUnsafe(ref Unsafe.Add(ref pr, k));
                wide |= Vector256.GreaterThan(Vector256.Abs(dd), half);
            }
            anyWide |= wide != Vector256<float>.Zero;
        }
        for (; k < n; k++)
        {
            double zk = z[k], dk = delta[k];
            double m = zk + 0.5 * dk, h = halfNode * dk;
            double dPhi = (w0 * Math.Exp(-0.5 * m * m) + w1 * (Math.Exp(-0.5 * (m - h) * (m - h)) + Math.Exp(-0.5 * (m + h) * (m + h)))) * dk * scale;
            result[k] = (float)(dk * phiZ[k] + (zk + dk) * dPhi);
            anyWide |= Math.Abs(dk) > SinglePanelWidth;
        }
        if (!anyWide) return;
        for (k = 0; k < n; k++)
        {
            double dk = delta[k];
            if (Math.Abs(dk) <= SinglePanelWidth) continue;
            double zk = z[k];
            result[k] = (float)((zk + dk) * Phi(zk + dk) - zk * Phi(zk));
        }
    }

    /// <summary>Φ(z) for each element (float64 erf, stored as float32).</summary>
    public static void NormalCdf(ReadOnlySpan<float> z, Span<float> result)
    {
        for (int k = 0; k < z.Length; k++) result[k] = (float)Phi(z[k]);
    }

    /// <summary>Standard normal CDF via <see cref="Activations.Erf(double)"/> (|error| ≤ 1.1e-8; it multiplies Δ, so no cancellation).</summary>
    static double Phi(double x) => 0.5 * (1 + Activations.Erf(x * 0.70710678118654752440));

    static double GeluTanh(double z, double delta)
    {
        if (delta == 0) return 0;
        double z2 = z + delta;
        double u = Sqrt2OverPi * (z + 0.044715 * z * z * z);
        double u2 = Sqrt2OverPi * (z2 + 0.044715 * z2 * z2 * z2);
        double du = Sqrt2OverPi * delta * (1 + 0.044715 * (3 * z * z + 3 * z * delta + delta * delta));
        double dtanh = Math.Abs(u) > 20 || Math.Abs(u2) > 20
            ? Math.Tanh(u2) - Math.Tanh(u)
            : Math.Sinh(du) / (Math.Cosh(u) * Math.Cosh(u2));
        return 0.5 * delta * (1 + Math.Tanh(u2)) + 0.5 * z * dtanh;
    }
}
