using System.Text;
using Xunit.Abstractions;

namespace MixLens.Tests.Gradients;

/// <summary>A scalar loss at a perturbation of size δ along some coordinate or direction, with a signature of the
/// function's kinks at that point (which ReLUs are on; 0 for a smooth function).</summary>
public readonly record struct LossAt(double Loss, ulong KinkSignature = 0);

/// <summary>Central finite differences in float64.</summary>
public static class FiniteDifferences
{
    /// <summary>The default step h.</summary>
    public const double Step = 1e-5;

    /// <summary>
    /// (f(h) − f(−h)) / 2h, truncation error O(h²). When a step crosses a kink (the signature at ±h differs from
    /// <paramref name="signature"/>, e.g. a ReLU changing sides), the step shrinks by 16 up to three times; NaN when it
    /// still crosses (the coordinate is then skipped).
    /// </summary>
    public static double Central(Func<double, LossAt> f, ulong signature = 0, double step = Step)
    {
        for (int attempt = 0; attempt < 4; attempt++, step /= 16)
        {
            var plus = f(step);
            var minus = f(-step);
            if (plus.KinkSignature == signature && minus.KinkSignature == signature)
                return (plus.Loss - minus.Loss) / (2 * step);
        }
        return double.NaN;
    }

    /// <summary>The same for a vector-valued f: (f(h) − f(−h)) / 2h element-wise (a Jacobian-vector product); null when
    /// every step crosses a kink.</summary>
    public static double[]? Central(Func<double, (double[] Values, ulong KinkSignature)> f, ulong signature = 0, double step = Step)
    {
        for (int attempt = 0; attempt < 4; attempt++, step /= 16)
        {
            var plus = f(step);
            var minus = f(-step);
            if (plus.KinkSignature == signature && minus.KinkSignature == signature)
                return plus.Values.Select((v, k) => (v - minus.Values[k]) / (2 * step)).ToArray();
        }
        return null;
    }

    /// <summary>All of 0..count-1 when <paramref name="sample"/> is null or at least count; else the index of the largest
    /// |gradient| and <paramref name="sample"/> − 1 other distinct indices drawn with <paramref name="seed"/>.</summary>
    public static int[] Coordinates(ReadOnlySpan<float> gradient, int? sample, int seed)
    {
        int count = gradient.Length;
        if (sample is not int k || k >= count) return Enumerable.Range(0, count).ToArray();
        int argmax = 0;
        for (int i = 1; i < count; i++) if (Math.Abs(gradient[i]) > Math.Abs(gradient[argmax])) argmax = i;
        var chosen = new SortedSet<int> { argmax };
        var random = new Random(seed);
        while (chosen.Count < k) chosen.Add(random.Next(count));
        return chosen.ToArray();
    }

    /// <summary>A seeded random vector with entries uniform in [−1, 1].</summary>
    public static double[] RandomVector(int length, int seed)
    {
        var random = new Random(seed);
        var v = new double[length];
        for (int i = 0; i < length; i++) v[i] = 2 * random.NextDouble() - 1;
        return v;
    }

    /// <summary>The same as float32.</summary>
    public static float[] RandomFloats(int length, int seed) => RandomVector(length, seed).Select(v => (float)v).ToArray();
}

/// <summary>
/// Compares a float32 gradient g with finite differences of a float64 reference: per coordinate |g_k − FD_k| against
/// max|g| (the whole tensor's), per direction v |⟨g, v⟩ − FD_v| against ‖g‖₂‖v‖₂. Collects the worst cases, then
/// asserts that every ratio is within the relative tolerance and writes the max |diff| and max |g| to the test output.
/// </summary>
public sealed class GradientCheck
{
    readonly string _what;
    readonly float[] _gradient;
    readonly double _norm;
    int _coordinates, _directions, _skipped, _worstAt = -1;
    double _maxCoordinateDiff, _worstDirectionRatio, _worstExpected, _worstFd;

    /// <summary>max |g| over the whole gradient.</summary>
    public double MaxGradient { get; }

    /// <summary>The largest |g_k − FD_k| seen.</summary>
    public double MaxDiff => _maxCoordinateDiff;

    /// <summary>The largest of max|diff|/max|g| and the directional ratios.</summary>
    public double WorstRatio => Math.Max(MaxGradient > 0 ? _maxCoordinateDiff / MaxGradient : _maxCoordinateDiff, _worstDirectionRatio);

    public GradientCheck(string what, float[] gradient)
    {
        _what = what;
        _gradient = gradient;
        MaxGradient = gradient.Length == 0 ? 0 : gradient.Max(g => Math.Abs((double)g));
        _norm = Math.Sqrt(gradient.Sum(g => (double)g * g));
    }

    /// <summary>Checks coordinate k against its finite difference (NaN: skipped, a kink in the way).</summary>
    public void Coordinate(int k, double fd)
    {
        if (double.IsNaN(fd)) { _skipped++; return; }
        _coordinates++;
        double diff = Math.Abs(_gradient[k] - fd);
        if (!(diff <= _maxCoordinateDiff)) (_maxCoordinateDiff, _worstAt, _worstExpected, _worstFd) = (diff, k, _gradient[k], fd);
    }

    /// <summary>Checks the directional derivative along v against its finite difference.</summary>
    public void Direction(double[] v, double fd)
    {
        if (double.IsNaN(fd)) { _skipped++; return; }
        _directions++;
        double dot = 0, vNorm = 0;
        for (int k = 0; k < v.Length; k++) { dot += _gradient[k] * v[k]; vNorm += v[k] * v[k]; }
        double scale = _norm * Math.Sqrt(vNorm);
        _worstDirectionRatio = Math.Max(_worstDirectionRatio, scale > 0 ? Math.Abs(dot - fd) / scale : Math.Abs(dot - fd));
    }

    /// <summary>Writes the summary line and fails when a ratio exceeds <paramref name="relativeTolerance"/>.</summary>
    public void Assert(double relativeTolerance, ITestOutputHelper? output)
    {
        string summary = Summary();
        output?.WriteLine(summary);
        Xunit.Assert.True(_coordinates + _directions > 0, $"{_what}: nothing was checked ({_skipped} skipped)");
        Xunit.Assert.True(_skipped <= Math.Max(2, (_coordinates + _directions) / 50), $"{summary}: too many kinks in the way");
        Xunit.Assert.True(WorstRatio <= relativeTolerance, $"{summary}: above the tolerance {relativeTolerance:G2} relative");
    }

    string Summary()
    {
        var s = new StringBuilder();
        s.Append($"{_what}: {_coordinates} coordinates");
        if (_directions > 0) s.Append($" + {_directions} directions");
        if (_skipped > 0) s.Append($" ({_skipped} skipped at kinks)");
        s.Append($", max |diff| {_maxCoordinateDiff:G3}, max |grad| {MaxGradient:G3}, max |diff|/max |grad| {(MaxGradient > 0 ? _maxCoordinateDiff / MaxGradient : 0):G3}");
        if (_directions > 0) s.Append($", worst directional |diff|/(‖g‖‖v‖) {_worstDirectionRatio:G3}");
        if (_worstAt >= 0) s.Append($"; worst at [{_worstAt}]: backward {_worstExpected:G9}, finite difference {_worstFd:G9}");
        return s.ToString();
    }
}
