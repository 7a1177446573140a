using System.Runtime.Intrinsics;
using MixLens.Kernels;

namespace MixLens.Tests.Kernels;

/// <summary>Shared inputs for the kernel tests: vector paths to run, deterministic random data, float64 references.</summary>
internal static class KernelTestData
{
    /// <summary>Every path this machine can run (≤ <see cref="VectorPaths.Detected"/>), widest first.</summary>
    public static TheoryData<VectorPath> Paths => new(AvailablePaths);

    /// <summary>
    /// Every path at or below <see cref="VectorPaths.Detected"/>; only the detected one in a child process started by
    /// <see cref="VectorPathChildProcessTests"/> (the lower ones already ran in the parent).
    /// </summary>
    public static IEnumerable<VectorPath> AvailablePaths =>
        Environment.GetEnvironmentVariable(VectorPathChildProcessTests.ChildMarker) is not null
            ? [VectorPaths.Detected]
            : new[] { VectorPath.Vector512, VectorPath.Vector256, VectorPath.Vector128, VectorPath.Scalar }.Where(p => p <= VectorPaths.Detected);

    /// <summary>Floats per vector on a path (1 for scalar).</summary>
    public static int Width(VectorPath path) => path switch
    {
        VectorPath.Vector512 => Vector512<float>.Count,
        VectorPath.Vector256 => Vector256<float>.Count,
        VectorPath.Vector128 => Vector128<float>.Count,
        _ => 1,
    };

    /// <summary>Lengths 0 .. 3·width+1 for the widest path (covers every tail of every narrower path too).</summary>
    public static IEnumerable<int> TailLengths => Enumerable.Range(0, 3 * Vector512<float>.Count + 2);

    public static float[] Uniform(int length, int seed, float lo = -1f, float hi = 1f)
    {
        var rnd = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = lo + (hi - lo) * (float)rnd.NextDouble();
        return x;
    }

    /// <summary>Small integers in [−4, 4]: products and sums of up to 2²⁰ of them are exact in float32, so any
    /// summation order gives the same bits and a kernel can be compared to its reference exactly.</summary>
    public static float[] SmallIntegers(int length, int seed)
    {
        var rnd = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = rnd.Next(-4, 5);
        return x;
    }

    public static float[] Filled(int length, float value)
    {
        var x = new float[length];
        Array.Fill(x, value);
        return x;
    }

    /// <summary>
    /// erf in float64 from the everywhere-positive series erf(x) = (2/√π)·e^(−x²)·Σₙ 2ⁿx^(2n+1)/(1·3·…·(2n+1))
    /// (Abramowitz &amp; Stegun 7.1.6): no cancellation, so relative accuracy ~1e-15; ±1 for |x| &gt; 6 (erfc(6) ≈ 2e-17).
    /// </summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax > 6) return Math.Sign(x);
        double term = ax, sum = ax, x2 = ax * ax;
        for (int n = 1; n < 500 && term > sum * 1e-18; n++)
        {
            term *= 2 * x2 / (2 * n + 1);
            sum += term;
        }
        return Math.Sign(x) * 2 / Math.Sqrt(Math.PI) * Math.Exp(-x2) * sum;
    }

    public static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    public static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
}
