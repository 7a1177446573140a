namespace MixLens.Analysis.Numerics;

/// <summary>
/// The m-point Gauss–Legendre quadrature rule on [−1, 1]: ∫ f ≈ Σ_s ω_s f(ξ_s), exact for polynomials of degree up to
/// 2m − 1 (Abramowitz &amp; Stegun 25.4.29). Nodes are the roots of the Legendre polynomial P_m, found by Newton's
/// method from the Tricomi initial guess cos(π(s + 3/4)/(m + 1/2)); weights ω_s = 2 / ((1 − ξ_s²) P′_m(ξ_s)²). All in
/// float64 (numpy's <c>leggauss</c> gives the same nodes to the last bits; captum uses them for integrated gradients).
/// </summary>
public static class GaussLegendre
{
    /// <summary>Nodes ξ [m] (ascending) and weights ω [m] on [−1, 1].</summary>
    /// <exception cref="ArgumentOutOfRangeException">m &lt; 1.</exception>
    public static (double[] Nodes, double[] Weights) Rule(int m)
    {
        if (m < 1) throw new ArgumentOutOfRangeException(nameof(m), m, "a Gauss–Legendre rule needs at least one point");
        var nodes = new double[m];
        var weights = new double[m];
        for (int s = 0; s < (m + 1) / 2; s++)
        {
            double x = Math.Cos(Math.PI * (s + 0.75) / (m + 0.5));
            double dp = 0;
            for (int iteration = 0; iteration < 100; iteration++)
            {
                (double p, double derivative) = Legendre(m, x);
                dp = derivative;
                double step = p / dp;
                x -= step;
                if (Math.Abs(step) < 1e-16) break;
            }
            dp = Legendre(m, x).Derivative;
            double w = 2 / ((1 - x * x) * dp * dp);
            nodes[m - 1 - s] = x; nodes[s] = -x;
            weights[m - 1 - s] = w; weights[s] = w;
        }
        return (nodes, weights);
    }

    /// <summary>P_m(x) and P′_m(x) by the three-term recurrence (k+1) P_{k+1} = (2k+1) x P_k − k P_{k−1}.</summary>
    static (double Value, double Derivative) Legendre(int m, double x)
    {
        double p0 = 1, p1 = x;
        for (int k = 1; k < m; k++) (p0, p1) = (p1, ((2 * k + 1) * x * p1 - k * p0) / (k + 1));
        if (m == 0) return (1, 0);
        return (p1, m * (x * p1 - p0) / (x * x - 1));
    }
}
