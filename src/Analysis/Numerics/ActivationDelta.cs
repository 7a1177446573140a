using MixLens.Engine.Model;

namespace MixLens.Analysis.Numerics;

/// <summary>
/// act(z + Δ) − act(z), computed without cancellation for small Δ (float64):
/// <list type="bullet">
/// <item>GELU (erf): g(z) = z Φ(z), so Δg = Δ Φ(z+Δ) + z [Φ(z+Δ) − Φ(z)], with the bracket = ∫_z^{z+Δ} φ(t) dt by
/// 5-point Gauss–Legendre quadrature on panels of width ≤ 1/2 (relative error below 1e-12 there; φ is smooth), and
/// Φ(z+Δ) by Abramowitz &amp; Stegun 7.1.26 (absolute error 1.5e-7, multiplied by Δ: no cancellation).</item>
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

    /// <summary>Writes act(z + Δ) − act(z) for each element.</summary>
    public static void Apply(Activation activation, ReadOnlySpan<float> z, ReadOnlySpan<float> delta, Span<float> result)
    {
        switch (activation)
        {
            case Activation.Gelu:
                for (int k = 0; k < z.Length; k++) result[k] = (float)GeluErf(z[k], delta[k]);
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

    static double GeluErf(double z, double delta)
    {
        if (delta == 0) return 0;
        return delta * Phi(z + delta) + z * PhiIncrement(z, delta);
    }

    /// <summary>Φ(z + Δ) − Φ(z) = ∫ φ, by composite 5-point Gauss–Legendre.</summary>
    static double PhiIncrement(double z, double delta)
    {
        int panels = Math.Max(1, (int)Math.Ceiling(Math.Abs(delta) * 2));
        double width = delta / panels, sum = 0;
        for (int p = 0; p < panels; p++)
        {
            double mid = z + (p + 0.5) * width;
            double panel = 0;
            for (int q = 0; q < 5; q++)
            {
                double t = mid + 0.5 * width * Nodes[q];
                panel += Weights[q] * Math.Exp(-0.5 * t * t);
            }
            sum += panel;
        }
        return sum * 0.5 * width * InvSqrt2Pi;
    }

    /// <summary>Standard normal CDF, Abramowitz &amp; Stegun 7.1.26 (|error| ≤ 1.5e-7).</summary>
    static double Phi(double x)
    {
        double u = Math.Abs(x) / Math.Sqrt(2);
        double t = 1 / (1 + 0.3275911 * u);
        double erf = 1 - (((((1.061405429 * t - 1.453152027) * t) + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t * Math.Exp(-u * u);
        return 0.5 * (1 + (x >= 0 ? erf : -erf));
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
