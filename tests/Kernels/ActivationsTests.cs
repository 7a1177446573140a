using MixLens.Kernels;
using Xunit.Abstractions;

namespace MixLens.Tests.Kernels;

public class ActivationsTests(ITestOutputHelper output)
{
    public static TheoryData<VectorPath> Paths => KernelTestData.Paths;

    /// <summary>2·10⁶ + 1 evenly spaced points on [−10, 10] (step 1e-5), plus values near 0.</summary>
    static float[] Sweep()
    {
        const int n = 2_000_001;
        var x = new float[n + 4];
        for (int i = 0; i < n; i++) x[i] = (float)(-10 + 20.0 * i / (n - 1));
        x[n] = 1e-30f; x[n + 1] = -1e-20f; x[n + 2] = 1e-7f; x[n + 3] = 0f;
        return x;
    }

    [Fact]
    public void ErfReference_KnownValues_Match()
    {
        // A&S Table 7.1 / mpmath
        Assert.Equal(0.5204998778130465, KernelTestData.Erf(0.5), 1e-15);
        Assert.Equal(0.8427007929497149, KernelTestData.Erf(1.0), 1e-15);
        Assert.Equal(0.9953222650189527, KernelTestData.Erf(2.0), 1e-15);
        Assert.Equal(0.9999779095030014, KernelTestData.Erf(3.0), 1e-15);
        Assert.Equal(-0.9999999845827421, KernelTestData.Erf(-4.0), 1e-15);
        Assert.Equal(0.1124629160182849, KernelTestData.Erf(0.1), 1e-15);
    }

    [Fact]
    public void Erf_Sweep_MaxAbsErrorBelow1e7()
    {
        double worst = 0, worstX = 0;
        foreach (float x in Sweep())
        {
            double err = Math.Abs(Activations.Erf(x) - KernelTestData.Erf(x));
            if (err > worst) { worst = err; worstX = x; }
        }
        output.WriteLine($"erf: max |error| {worst:G3} at x = {worstX:G9}");
        Assert.True(worst < 1e-7, $"erf max |error| {worst:G3} at x = {worstX:G9}");
    }

    [Fact]
    public void Erf_SpecialValues_AreExact()
    {
        Assert.Equal(0f, Activations.Erf(0f));
        Assert.Equal(1f, Activations.Erf(4f));
        Assert.Equal(-1f, Activations.Erf(-100f));
        Assert.Equal(1f, Activations.Erf(float.PositiveInfinity));
        Assert.Equal(-1f, Activations.Erf(float.NegativeInfinity));
        Assert.True(float.IsNaN(Activations.Erf(float.NaN)));
    }

    [Theory, MemberData(nameof(Paths))]
    public void Gelu_Sweep_MaxAbsErrorBelow4e7(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        var x = Sweep();
        var y = (float[])x.Clone();
        Activations.Gelu(y);
        double worst = 0, worstX = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double err = Math.Abs(y[i] - KernelTestData.Gelu(x[i]));
            if (err > worst) { worst = err; worstX = x[i]; }
        }
        output.WriteLine($"GELU {path}: max |error| {worst:G3} at x = {worstX:G9}");
        Assert.True(worst < 4e-7, $"GELU {path}: max |error| {worst:G3} at x = {worstX:G9}");
    }

    [Theory, MemberData(nameof(Paths))]
    public void Gelu_EveryLengthUpTo3Vectors_MatchesScalar(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        foreach (int n in KernelTestData.TailLengths)
        {
            var x = KernelTestData.Uniform(n, n, -6f, 6f);
            var y = (float[])x.Clone();
            var expected = (float[])x.Clone();
            Activations.Gelu(y);
            Activations.ReferenceGelu(expected);
            for (int i = 0; i < n; i++)
                Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-7 * Math.Max(1, Math.Abs(x[i])), $"{path} n={n}: x={x[i]:G9} gelu {y[i]:G9} vs scalar {expected[i]:G9}");
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void Gelu_SpecialValues_AreFinite(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        var x = Enumerable.Repeat(new[] { 0f, 100f, -100f, float.PositiveInfinity, float.MaxValue, -float.MaxValue, float.NaN }, 5).SelectMany(v => v).ToArray();
        Activations.Gelu(x);
        for (int i = 0; i < x.Length; i += 7)
        {
            Assert.Equal(0f, x[i]);
            Assert.Equal(100f, x[i + 1]);
            Assert.Equal(0f, x[i + 2]);
            Assert.Equal(float.PositiveInfinity, x[i + 3]);
            Assert.Equal(float.MaxValue, x[i + 4]);
            Assert.Equal(0f, x[i + 5]);
            Assert.True(float.IsNaN(x[i + 6]));
        }
    }

    [Fact]
    public void GeluTanh_Sweep_MatchesFloat64()
    {
        var x = KernelTestData.Uniform(100_003, 3, -10f, 10f);
        var y = (float[])x.Clone();
        Activations.GeluTanh(y);
        double worst = 0;
        for (int i = 0; i < x.Length; i++) worst = Math.Max(worst, Math.Abs(y[i] - KernelTestData.GeluTanh(x[i])) / Math.Max(1, Math.Abs(x[i])));
        output.WriteLine($"GELU tanh: max |error|/max(1,|x|) {worst:G3}");
        Assert.True(worst < 5e-7, $"max scaled error {worst:G3}");
    }

    [Fact]
    public void GeluTanh_EveryLength_MatchesFloat64()
    {
        foreach (int n in KernelTestData.TailLengths.Append(256).Append(257).Append(1000))
        {
            var x = KernelTestData.Uniform(n, n, -5f, 5f);
            var y = (float[])x.Clone();
            Activations.GeluTanh(y);
            for (int i = 0; i < n; i++) Assert.Equal(KernelTestData.GeluTanh(x[i]), y[i], 2e-6);
        }
    }

    [Fact]
    public void Relu_MixedSigns_ClampsNegatives()
    {
        float[] x = [-2f, -0f, 0f, 3.5f, float.NegativeInfinity, float.PositiveInfinity, -1e-30f];
        Activations.Relu(x);
        Assert.Equal([0f, 0f, 0f, 3.5f, 0f, float.PositiveInfinity, 0f], x);
        foreach (int n in KernelTestData.TailLengths)
        {
            var v = KernelTestData.Uniform(n, n);
            var expected = v.Select(e => Math.Max(e, 0f)).ToArray();
            Activations.Relu(v);
            Assert.Equal(expected, v);
        }
    }
}
