using ILGPU;

namespace MixLens.Gpu.Kernels;

/// <summary>
/// The scalar functions the GPU kernels use, written out so that their accuracy is known and the same on every device
/// (no device intrinsics of unknown accuracy): erf and GELU as <see cref="MixLens.Kernels.Activations"/> computes them
/// (the same rational approximation, evaluated in float64), and exp in float64. Also callable on the host (tests).
/// </summary>
public static class DeviceMath
{
    const double InvSqrt2 = 0.70710678118654752440;
    const double ErfClamp = 3.832506856900711;
    const double Alpha1 = 1.128379143519084, Alpha3 = 0.18520832239976145, Alpha5 = 0.050955695062380861,
        Alpha7 = 0.0034082910107109506, Alpha9 = 0.00022905065861350646;
    const double Beta2 = 0.49746925110067538, Beta4 = 0.11098505178285362, Beta6 = 0.014070470171167667,
        Beta8 = 0.0010179625278914885, Beta10 = 0.000023547966471313185, Beta12 = -1.1791602954361697e-7;

    /// <summary>erf(x): Eigen's <c>generic_fast_erf_float</c> rational approximation, x·P(x²)/Q(x²) for |x| &lt; c =
    /// erfinv(1 − 2⁻²³), ±1 beyond (absolute error ≤ 2.1e-8), the formula of <see cref="MixLens.Kernels.Activations.Erf(double)"/>.</summary>
    public static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x >= ErfClamp) return 1.0;
        if (x <= -ErfClamp) return -1.0;
        double t = x * x;
        double p = (((Alpha9 * t + Alpha7) * t + Alpha5) * t + Alpha3) * t + Alpha1;
        double q = (((((Beta12 * t + Beta10) * t + Beta8) * t + Beta6) * t + Beta4) * t + Beta2) * t + 1.0;
        return x * p / q;
    }

    /// <summary>Φ(x) = ½(1 + erf(x/√2)).</summary>
    public static double Phi(double x) => 0.5 * (1 + Erf(x * InvSqrt2));

    /// <summary>GELU, erf form: ½x·erf(x/√2) + ½x in float64, rounded once (as <see cref="MixLens.Kernels.Activations.Gelu(float)"/>).</summary>
    public static float Gelu(float x)
    {
        double halfX = 0.5 * x;
        return (float)(halfX * Erf(x * InvSqrt2) + halfX);
    }

    /// <summary>GELU, tanh form: x·σ(2u), u = √(2/π)(x + 0.044715x³), with the exponential in float64.</summary>
    public static float GeluTanh(float x)
    {
        double u2 = 2 * 0.7978845608028654 * (x + 0.044715 * (double)x * x * x);
        return (float)(x / (1 + Exp(-u2)));
    }

    const double Log2E = 1.4426950408889634, Ln2Hi = 0.693147180369123816490, Ln2Lo = 1.90821492927058770002e-10;

    /// <summary>
    /// e^x in float64: x = k·ln2 + r with |r| ≤ ½ln2 (Cody–Waite, ln 2 split in two), e^r by its Taylor series to r¹⁴
    /// (truncation below 1e-17 relative), then scaled by 2^k through the exponent bits. Relative error ~1e-16; +∞
    /// above 709.78, 0 below −745.1, NaN for NaN.
    /// </summary>
    public static double Exp(double x)
    {
        if (double.IsNaN(x)) return x;
        if (x > 709.782712893384) return double.PositiveInfinity;
        if (x < -745.1332191019412) return 0.0;
        double kf = x * Log2E;
        long k = (long)(kf >= 0 ? kf + 0.5 : kf - 0.5);
        double r = x - k * Ln2Hi - k * Ln2Lo;
        double p = 1.0 / 87178291200.0;                     // 1/14!
        p = p * r + 1.0 / 6227020800.0;
        p = p * r + 1.0 / 479001600.0;
        p = p * r + 1.0 / 39916800.0;
        p = p * r + 1.0 / 3628800.0;
        p = p * r + 1.0 / 362880.0;
        p = p * r + 1.0 / 40320.0;
        p = p * r + 1.0 / 5040.0;
        p = p * r + 1.0 / 720.0;
        p = p * r + 1.0 / 120.0;
        p = p * r + 1.0 / 24.0;
        p = p * r + 1.0 / 6.0;
        p = p * r + 0.5;
        p = p * r + 1.0;
        p = p * r + 1.0;
        // 2^k as two factors so that k down to −1075 and up to 1024 stay within the normal exponent range
        long k1 = k / 2, k2 = k - k1;
        return p * Pow2(k1) * Pow2(k2);
    }

    /// <summary>2^k for −1022 ≤ k ≤ 1023, from the exponent bits.</summary>
    static double Pow2(long k) => Interop.IntAsFloat((ulong)(k + 1023) << 52);

    /// <summary>tanh(x) in float64 from <see cref="Exp"/>: 1 − 2/(e^{2x} + 1) (sign-symmetric form).</summary>
    public static double Tanh(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = x < 0 ? -x : x;
        double t = ax > 20 ? 1.0 : 1 - 2 / (Exp(2 * ax) + 1);
        return x < 0 ? -t : t;
    }

    /// <summary>The activation named by a <see cref="MixLens.Kernels.GemmActivation"/> code (0 none, 1 erf-GELU,
    /// 2 tanh-GELU, 3 ReLU).</summary>
    public static float Activate(float v, int activation)
    {
        if (activation == 1) return Gelu(v);
        if (activation == 2) return GeluTanh(v);
        if (activation == 3) return v > 0 ? v : (float.IsNaN(v) ? v : 0f);
        return v;
    }
}
