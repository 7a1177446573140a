using System.Numerics;
using System.Runtime.InteropServices;

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
/// All in float64, vectorised with <see cref="Vector{T}"/> of double. Exact algebra, no Taylor truncation, so it
/// holds for large δ too.
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

    /// <summary>
    /// Writes Δy [d] for the input change δ = <paramref name="delta1"/> + <paramref name="delta2"/> (two float32
    /// increments of the same row, summed in float64: for LayerNorm 2 of a transformer layer, the FFN output change
    /// and the residual change).
    /// </summary>
    /// <param name="delta1">first part of δ [d].</param>
    /// <param name="delta2">second part of δ [d].</param>
    /// <param name="gamma">the LayerNorm weight γ [d], widened to float64.</param>
    /// <param name="result">Δy [d]; also holds e = δ − mean(δ) on the way.</param>
    public void Apply(ReadOnlySpan<float> delta1, ReadOnlySpan<float> delta2, ReadOnlySpan<double> gamma, Span<double> result)
    {
        int d = _centered.Length, w = Vector<double>.Count, k = 0;
        var e = result[..d];

        // δ in float64, and Σδ
        var sum = Vector<double>.Zero;
        var v1 = MemoryMarshal.Cast<float, Vector<float>>(delta1[..d]);
        var v2 = MemoryMarshal.Cast<float, Vector<float>>(delta2[..d]);
        var ve = MemoryMarshal.Cast<double, Vector<double>>(e);
        for (int v = 0; v < v1.Length; v++)
        {
            Vector.Widen(v1[v], out var lo1, out var hi1);        // a Vector<float> holds two Vector<double>
            Vector.Widen(v2[v], out var lo2, out var hi2);
            ve[2 * v] = lo1 + lo2;
            ve[2 * v + 1] = hi1 + hi2;
            sum += ve[2 * v] + ve[2 * v + 1];
        }
        k = v1.Length * 2 * w;
        double total = Vector.Sum(sum);
        for (; k < d; k++)
        {
            e[k] = (double)delta1[k] + delta2[k];
            total += e[k];
        }
        double meanDelta = total / d;

        // e = δ − mean(δ);  c·e and e·e
        var c = _centered.AsSpan();
        var ce = Vector<double>.Zero;
        var ee = Vector<double>.Zero;
        var mean = new Vector<double>(meanDelta);
        var vc = MemoryMarshal.Cast<double, Vector<double>>(c);
        var vE = MemoryMarshal.Cast<double, Vector<double>>(e);
        for (int v = 0; v < vE.Length; v++)
        {
            var ev = vE[v] - mean;
            vE[v] = ev;
            ce += vc[v] * ev;
            ee += ev * ev;
        }
        double ceSum = Vector.Sum(ce), eeSum = Vector.Sum(ee);
        for (k = vE.Length * w; k < d; k++)
        {
            e[k] -= meanDelta;
            ceSum += c[k] * e[k];
            eeSum += e[k] * e[k];
        }

        double deltaVar = (2 * ceSum + eeSum) / d;
        double a2 = _a + deltaVar;
        double r = Math.Sqrt(_a), r2 = Math.Sqrt(a2);
        double s2 = 1 / r2;
        double deltaS = -deltaVar / (r * r2 * (r + r2));

        // Δy = γ ⊙ (e s′ + c Δs), in place over e
        var vs2 = new Vector<double>(s2);
        var vds = new Vector<double>(deltaS);
        var vg = MemoryMarshal.Cast<double, Vector<double>>(gamma[..d]);
        for (int v = 0; v < vE.Length; v++) vE[v] = vg[v] * (vE[v] * vs2 + vc[v] * vds);
        for (k = vE.Length * w; k < d; k++) e[k] = gamma[k] * (e[k] * s2 + c[k] * deltaS);
    }
}
