using MixLens.Analysis.Numerics;
using MixLens.Kernels;

namespace MixLens.Tests.Analysis;

/// <summary>The erf-GELU increment row of the Value Zeroing fast path, on every vector path, against float64.</summary>
public class ActivationDeltaTests
{
    /// <summary>Φ(x) in float64 to about 1e-15 relative in the lower tail: Simpson's rule for ∫_{x−12}^{x} φ (x ≤ 0),
    /// 1 − Φ(−x) above. (An erf-based Φ has an absolute error near 1e-8, far too coarse at x = −5, where Φ ≈ 3e-7.)</summary>
    static double Phi(double x)
    {
        if (x > 0) return 1 - Phi(-x);
        const int panels = 4000;
        double a = x - 12, h = 12.0 / panels, sum = 0;
        for (int p = 0; p <= panels; p++)
        {
            double t = a + p * h;
            double w = p == 0 || p == panels ? 1 : p % 2 == 1 ? 4 : 2;
            sum += w * Math.Exp(-0.5 * t * t);
        }
        return sum * h / 3 / Math.Sqrt(2 * Math.PI);
    }

    /// <summary>gelu(z + Δ) − gelu(z) = (z+Δ)Φ(z+Δ) − zΦ(z) in float64; for tiny Δ from the integral form
    /// Δ·Φ(z+Δ) + z·∫φ, with the integral by a 64-panel midpoint rule (no cancellation).</summary>
    static double Reference(double z, double delta)
    {
        if (Math.Abs(delta) > 1e-3) return (z + delta) * Phi(z + delta) - z * Phi(z);
        double integral = 0;
        const int panels = 64;
        for (int p = 0; p < panels; p++)
        {
            double t = z + delta * (p + 0.5) / panels;
            integral += Math.Exp(-0.5 * t * t);
        }
        integral *= delta / panels / Math.Sqrt(2 * Math.PI);
        return delta * Phi(z + delta) + z * integral;
    }

    public static TheoryData<VectorPath> Paths()
    {
        var data = new TheoryData<VectorPath> { VectorPath.Scalar };
        if (VectorPaths.Detected >= VectorPath.Vector256) data.Add(VectorPath.Vector256);
        if (VectorPaths.Detected >= VectorPath.Vector512) data.Add(VectorPath.Vector512);
        return data;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void GeluErfRow_EveryLengthUpTo3Widths_MatchesFloat64(VectorPath path)
    {
        var random = new Random(20261207);
        double[] scales = [1e-7, 1e-4, 1e-2, 0.3, 2.0];   // 2.0: the |Δ| > ½ fallback
        for (int length = 0; length <= 3 * 16 + 1; length++)
        {
            foreach (double scale in scales)
            {
                var z = new float[length];
                var delta = new float[length];
                var phi = new float[length];
                for (int k = 0; k < length; k++)
                {
                    z[k] = (float)(random.NextDouble() * 12 - 6);
                    delta[k] = (float)((random.NextDouble() * 2 - 1) * scale);
                }
                ActivationDelta.NormalCdf(z, phi);
                var result = new float[length];
                ActivationDelta.GeluErfRow(z, phi, delta, result, path);
                for (int k = 0; k < length; k++)
                {
                    double expected = Reference(z[k], delta[k]);
                    // float32 keeps ~1e-7 relative to |Δ|; Φ(z) enters rounded to float32 (multiplied by Δ)
                    double tol = 1e-6 * Math.Abs(delta[k]) + 1e-6 * Math.Abs(expected);
                    Assert.True(Math.Abs(result[k] - expected) <= tol,
                        $"{path}, length {length}, scale {scale}, k {k}: z {z[k]}, Δ {delta[k]}: got {result[k]:G9}, expected {expected:G9}");
                }
            }
        }
    }

    [Fact]
    public void GeluErfRow_WidestPath_EqualsNarrowerPathsClosely()
    {
        var random = new Random(7);
        int f = 1536;
        var z = Enumerable.Range(0, f).Select(_ => (float)(random.NextDouble() * 8 - 4)).ToArray();
        var delta = Enumerable.Range(0, f).Select(_ => (float)((random.NextDouble() * 2 - 1) * 0.05)).ToArray();
        var phi = new float[f];
        ActivationDelta.NormalCdf(z, phi);
        var widest = new float[f];
        var scalar = new float[f];
        ActivationDelta.GeluErfRow(z, phi, delta, widest);
        ActivationDelta.GeluErfRow(z, phi, delta, scalar, VectorPath.Scalar);
        for (int k = 0; k < f; k++)
            Assert.True(Math.Abs(widest[k] - scalar[k]) <= 1e-6 * Math.Abs(delta[k]) + 1e-7 * Math.Abs(scalar[k]),
                $"k {k}: {widest[k]:G9} vs scalar {scalar[k]:G9}");
    }

    /// <summary>The |Δ| &gt; ½ recomputation must see a row whose largest change is negative (a signed maximum would miss
    /// it and leave a 3-point quadrature over a width of 3 in place, off by ~1e-3).</summary>
    [Theory]
    [MemberData(nameof(Paths))]
    public void GeluErfRow_WideNegativeChange_IsRecomputed(VectorPath path)
    {
        var random = new Random(11);
        int f = 40;
        var z = Enumerable.Range(0, f).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        var delta = Enumerable.Range(0, f).Select(_ => (float)((random.NextDouble() * 2 - 1) * 1e-3)).ToArray();
        delta[17] = -3f;
        delta[33] = 0.9f;
        var phi = new float[f];
        ActivationDelta.NormalCdf(z, phi);
        var result = new float[f];
        ActivationDelta.GeluErfRow(z, phi, delta, result, path);
        for (int k = 0; k < f; k++)
        {
            double expected = Reference(z[k], delta[k]);
            Assert.True(Math.Abs(result[k] - expected) <= 1e-6 * Math.Abs(delta[k]) + 1e-6 * Math.Abs(expected),
                $"{path}, k {k}: z {z[k]}, Δ {delta[k]}: got {result[k]:G9}, expected {expected:G9}");
        }
    }
}
