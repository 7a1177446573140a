using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Analysis.Numerics;

/// <summary>
/// act(z + Δ) − act(z), computed without cancellation for small Δ:
/// <list type="bullet">
/// <item>GELU (erf): g(z) = z Φ(z), so Δg = Δ Φ(z) + (z + Δ) [Φ(z+Δ) − Φ(z)], the bracket ∫_z^{z+Δ} φ(t) dt by
/// Gauss–Legendre quadrature (<see cref="GeluIncrement"/>; float32, ~1e-7 relative to |Δ|).</item>
/// <item>GELU (tanh): Δg = ½Δ(1 + tanh u′) + ½z (tanh u′ − tanh u), tanh u′ − tanh u = sinh(u′−u) / (cosh u′ cosh u)
/// (float64).</item>
/// <item>ReLU: exact.</item>
/// </list>
/// </summary>
public static class ActivationDelta
{
    const double Sqrt2OverPi = 0.79788456080286535588;

    /// <summary>Writes act(z + Δ) − act(z) for each element; <paramref name="scratch"/> needs z.Length floats. For erf
    /// GELU over many Δ of the same z, compute Φ(z) once (<see cref="NormalCdf"/>) and call <see cref="GeluErfRow(ReadOnlySpan{float}, ReadOnlySpan{float}, ReadOnlySpan{float}, Span{float})"/>.</summary>
    public static void Apply(Activation activation, ReadOnlySpan<float> z, ReadOnlySpan<float> delta, Span<float> result, Span<float> scratch)
    {
        switch (activation)
        {
            case Activation.Gelu:
                var phiZ = scratch[..z.Length];
                NormalCdf(z, phiZ);
                GeluIncrement.Erf(z, phiZ, delta, result);
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
        for (int k = 0; k < z.Length; k++) result[k] = (float)GeluIncrement.Phi(z[k]);
    }

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
