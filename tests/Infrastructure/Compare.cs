using System.Text;

namespace MixLens.Tests.Infrastructure;

/// <summary>Element-wise comparison with numpy.allclose semantics, failing with the max difference and where it is.</summary>
public static class Compare
{
    /// <summary>Asserts |actual − expected| ≤ atol + rtol·|expected| (or ≤ atolOfMax·max|expected|) everywhere.</summary>
    public static void AllClose(string what, ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, int[] shape, Tolerance tol)
    {
        Assert.True(expected.Length == actual.Length,
            $"{what}: expected {expected.Length} elements [{string.Join(", ", shape)}], got {actual.Length}");
        double maxAbs = 0;
        for (int e = 0; e < expected.Length; e++) maxAbs = Math.Max(maxAbs, Math.Abs(expected[e]));
        double worst = 0, worstExcess = double.NegativeInfinity;
        int worstAt = -1, failures = 0;
        for (int e = 0; e < expected.Length; e++)
        {
            double exp = expected[e], act = actual[e];
            double diff = Math.Abs(act - exp);
            if (double.IsNegativeInfinity(exp) && double.IsNegativeInfinity(act)) diff = 0;
            else if (double.IsNaN(act) || double.IsNaN(exp)) diff = double.PositiveInfinity;
            double allowed = tol.AtolOfMax > 0 ? tol.AtolOfMax * maxAbs : tol.Atol + tol.Rtol * Math.Abs(exp);
            if (diff > allowed) failures++;
            if (diff - allowed > worstExcess) { worstExcess = diff - allowed; worstAt = e; }
            worst = Math.Max(worst, diff);
        }
        if (failures == 0) return;
        var message = new StringBuilder();
        message.Append($"{what}: {failures} of {expected.Length} elements outside tolerance (atol {tol.Atol}, rtol {tol.Rtol}");
        if (tol.AtolOfMax > 0) message.Append($", atol_of_max {tol.AtolOfMax} × {maxAbs:G4}");
        message.Append($"); max |diff| {worst:G4}; worst at [{string.Join(", ", Unravel(worstAt, shape))}]: ");
        message.Append($"expected {expected[worstAt]:G9}, actual {actual[worstAt]:G9}");
        Assert.Fail(message.ToString());
    }

    /// <summary>Max |a − b|.</summary>
    public static double MaxAbsDiff(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double max = 0;
        for (int e = 0; e < a.Length; e++) max = Math.Max(max, Math.Abs((double)a[e] - b[e]));
        return max;
    }

    static int[] Unravel(int index, int[] shape)
    {
        var result = new int[shape.Length];
        for (int k = shape.Length - 1; k >= 0; k--)
        {
            result[k] = shape[k] == 0 ? 0 : index % shape[k];
            index = shape[k] == 0 ? 0 : index / shape[k];
        }
        return result;
    }
}
