namespace MixLens.Analysis.Numerics;

/// <summary>
/// The exact change of a LayerNorm output when its input row moves by a small δ, computed from δ rather than as
/// the difference of two LayerNorm outputs (which would cancel catastrophically in float32 when δ ≪ x):
/// <code>
/// y = γ ⊙ c · s + β,   c = x − mean(x),   s = 1/√(var(x) + ε)
/// e = δ − mean(δ),     Δvar = (2 c·e + e·e) / d
/// Δs = −Δvar / (√a √a′ (√a + √a′)),   a = var + ε,  a′ = a + Δvar
/// Δy = γ ⊙ (e · s′ + c · Δs)
/// </code>
/// All in float64. Exact algebra, no Taylor truncation, so it holds for large δ too.
/// </summary>
public readonly struct LayerNormDelta
{
    readonly double[] _centered;
    readonly double _a;

    /// <summary>Prepares the base row x [d] (its centred values and variance + ε).</summary>
    public LayerNormDelta(ReadOnlySpan<float> x, double eps)
    {
        int d = x.Length;
        double mean = 0;
        foreach (var v in x) mean += v;
        mean /= d;
        _centered = new double[d];
        double variance = 0;
        for (int k = 0; k < d; k++)
        {
            _centered[k] = x[k] - mean;
            variance += _centered[k] * _centered[k];
        }
        _a = variance / d + eps;
    }

    /// <summary>Writes Δy [d] for the input change δ [d]; <paramref name="scratch"/> needs d doubles.</summary>
    public void Apply(ReadOnlySpan<double> delta, ReadOnlySpan<float> gamma, Span<double> result, Span<double> scratch)
    {
        int d = _centered.Length;
        double meanDelta = 0;
        for (int k = 0; k < d; k++) meanDelta += delta[k];
        meanDelta /= d;
        double ce = 0, ee = 0;
        var e = scratch[..d];
        for (int k = 0; k < d; k++)
        {
            e[k] = delta[k] - meanDelta;
            ce += _centered[k] * e[k];
            ee += e[k] * e[k];
        }
        double deltaVar = (2 * ce + ee) / d;
        double a2 = _a + deltaVar;
        double r = Math.Sqrt(_a), r2 = Math.Sqrt(a2);
        double s2 = 1 / r2;
        double deltaS = -deltaVar / (r * r2 * (r + r2));
        for (int k = 0; k < d; k++) result[k] = gamma[k] * (e[k] * s2 + _centered[k] * deltaS);
    }
}
