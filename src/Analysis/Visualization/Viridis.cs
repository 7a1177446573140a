namespace MixLens.Analysis.Visualization;

/// <summary>
/// The viridis colour map (van der Walt &amp; Smith, matplotlib 2.0 default): perceptually uniform in CAM02-UCS,
/// readable with the common colour-vision deficiencies and in grey scale. Evaluated by a degree-6 polynomial fit to
/// matplotlib's table (within about 0.01 per channel); the page's view.js uses the same coefficients.
/// </summary>
public static class Viridis
{
    static readonly double[,] C =
    {
        { 0.2777273272234177, 0.005407344544966578, 0.3340998053353061 },
        { 0.1050930431085774, 1.404613529898575, 1.384590162594685 },
        { -0.3308618287255563, 0.214847559468213, 0.09509516302823659 },
        { -4.634230498983486, -5.799100973351585, -19.33244095627987 },
        { 6.228269936347081, 14.17993336680509, 56.69055260068105 },
        { 4.776384997670288, -13.74514537774601, -65.35303263337234 },
        { -5.435455855934631, 4.645852612178535, 26.3124352495832 },
    };

    /// <summary>The colour at <paramref name="t"/> in [0, 1] (clamped; NaN gives the low end) as 8-bit sRGB.</summary>
    public static (byte R, byte G, byte B) At(double t)
    {
        t = double.IsNaN(t) ? 0 : Math.Clamp(t, 0, 1);
        Span<byte> rgb = stackalloc byte[3];
        for (int k = 0; k < 3; k++)
        {
            double v = 0;
            for (int i = 6; i >= 0; i--) v = v * t + C[i, k];
            rgb[k] = (byte)Math.Round(Math.Clamp(v, 0, 1) * 255);
        }
        return (rgb[0], rgb[1], rgb[2]);
    }

    /// <summary>The colour at <paramref name="t"/> as "#rrggbb".</summary>
    public static string Hex(double t)
    {
        var (r, g, b) = At(t);
        return $"#{r:x2}{g:x2}{b:x2}";
    }
}
