using MixLens.Kernels;
using MixLens.Kernels.Internal;
using Xunit.Abstractions;

namespace MixLens.Tests.Kernels;

public class VectorMathTests(ITestOutputHelper output)
{
    public static TheoryData<VectorPath> Paths => KernelTestData.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void Exp_NormalRange_RelativeErrorBelow2Ulp(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        const int n = 1_000_003;
        var x = new float[n];
        for (int i = 0; i < n; i++) x[i] = (float)(-87.3 + (88.7 + 87.3) * i / (n - 1));
        var y = new float[n];
        VectorMath.Exp(x, y);
        double worst = 0, worstX = 0;
        for (int i = 0; i < n; i++)
        {
            double exact = Math.Exp(x[i]);
            double rel = Math.Abs(y[i] - exact) / exact;
            if (rel > worst) { worst = rel; worstX = x[i]; }
        }
        output.WriteLine($"exp {path}: max relative error {worst:G3} at x = {worstX:G9}");
        Assert.True(worst < 2.4e-7, $"exp {path}: max relative error {worst:G3} (2 ulp = 2.4e-7) at x = {worstX:G9}");
    }

    [Theory, MemberData(nameof(Paths))]
    public void Exp_EveryLengthAndSpecialValues_AreHandled(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        float[] specials = [0f, -0f, 1f, -1f, float.NegativeInfinity, -1e30f, -88f, -87.4f, 88.8f, 1e30f, float.PositiveInfinity, float.NaN];
        float[] expected = [1f, 1f, MathF.E, 1 / MathF.E, 0f, 0f, 0f, 0f, float.PositiveInfinity, float.PositiveInfinity, float.PositiveInfinity, float.NaN];
        foreach (int n in KernelTestData.TailLengths)
        {
            var x = Enumerable.Range(0, n).Select(i => specials[i % specials.Length]).ToArray();
            var y = new float[n];
            VectorMath.Exp(x, y);
            for (int i = 0; i < n; i++)
            {
                float e = expected[i % specials.Length];
                if (float.IsNaN(e)) Assert.True(float.IsNaN(y[i]), $"{path} n={n}: exp(NaN) = {y[i]}");
                else Assert.True(Math.Abs(y[i] - e) <= 3e-7 * Math.Abs(e) || y[i] == e, $"{path} n={n}: exp({x[i]}) = {y[i]:G9}, expected {e:G9}");
            }
        }
    }

    [Fact]
    public void ExpScalar_NormalRange_RelativeErrorBelow2Ulp()
    {
        double worst = 0;
        for (int i = 0; i <= 200_000; i++)
        {
            float x = (float)(-87.3 + 176.0 * i / 200_000);
            double exact = Math.Exp(x);
            worst = Math.Max(worst, Math.Abs(VectorMath.Exp(x) - exact) / exact);
        }
        Assert.True(worst < 2.4e-7, $"max relative error {worst:G3}");
    }
}
