using System.Numerics.Tensors;
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
    /// Batched erf-GELU increment for one row: gelu(z + Δ) − gelu(z) = Δ·Φ(z) + (z + Δ)·[Φ(z + Δ) − Φ(z)], with Φ(z)
    /// given (<paramref name="phiZ"/>, computed once per base row and shared by every perturbation of it) and the
    /// bracket by 3-point Gauss–Legendre quadrature in float32: the kernel <see cref="GeluIncrement"/>, which states
    /// its error bounds (~1e-7 relative to |Δ|; elements with |Δ| &gt; ½ recomputed in float64 from erf).
    /// </summary>
    /// <param name="z">base pre-activations [f].</param>
    /// <param name="phiZ">Φ(z) [f].</param>
    /// <param name="delta">Δ [f].</param>
    /// <param name="result">gelu(z + Δ) − gelu(z) [f]; must not overlap <paramref name="delta"/>.</param>
    /// <exception cref="ArgumentException">the spans differ in length.</exception>
    public static void GeluErfRow(ReadOnlySpan<float> z, ReadOnlySpan<float> phiZ, ReadOnlySpan<float> delta, Span<float> result) =>
        GeluIncrement.Erf(z, phiZ, delta, result);

    /// <summary>As <see cref="GeluErfRow(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/> on at
    /// most the vector path given (tests compare the paths).</summary>
    public static void GeluErfRow(ReadOnlySpan<float> z, ReadOnlySpan<float> phiZ, ReadOnlySpan<float> delta, Span<float> result, VectorPath path) =>
        GeluIncrement.Erf(z, phiZ, delta, result, path);

    /// <summary>Φ(z) for each element (float64 erf, stored as float32).</summary>
    public static void NormalCdf(ReadOnlySpan<float> z, Span<float> result)
    {
        for (int k = 0; k < z.Length; k++) result[k] = (float)Phi(z[k]);
    }

    /// <summary>Standard normal CDF (|error| ≤ 1.1e-8; it multiplies Δ, so no cancellation).</summary>
    static double Phi(double x) => GeluIncrement.Phi(x);

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
