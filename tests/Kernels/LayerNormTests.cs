using MixLens.Kernels;

namespace MixLens.Tests.Kernels;

public class LayerNormTests
{
    public static TheoryData<VectorPath> Paths => KernelTestData.Paths;

    /// <summary>The definition in float64, for comparison: y = (x − μ)/√(σ² + ε)·γ + β, biased σ².</summary>
    static double[] Float64(float[] x, float[] gamma, float[] beta, float eps, int rows, int cols, out double[] mean, out double[] rstd)
    {
        var y = new double[rows * cols];
        mean = new double[rows];
        rstd = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            double mu = 0, sq = 0;
            for (int c = 0; c < cols; c++) mu += x[r * cols + c];
            mu /= cols;
            for (int c = 0; c < cols; c++) sq += (x[r * cols + c] - mu) * (x[r * cols + c] - mu);
            double rho = 1 / Math.Sqrt(sq / cols + eps);
            for (int c = 0; c < cols; c++) y[r * cols + c] = (x[r * cols + c] - mu) * rho * gamma[c] + beta[c];
            mean[r] = mu;
            rstd[r] = rho;
        }
        return y;
    }

    /// <summary>|y − y64| ≤ 4 ulp-ish of the output scale: 2⁻²²·(|γ·t| + |β|) + tiny.</summary>
    static void AssertMatchesFloat64(float[] x, float[] gamma, float[] beta, float eps, float[] y, int rows, int cols, string what,
        float[]? mean = null, float[]? rstd = null)
    {
        var expected = Float64(x, gamma, beta, eps, rows, cols, out var mean64, out var rstd64);
        for (int r = 0; r < rows; r++)
        {
            for (int c = 0; c < cols; c++)
            {
                int e = r * cols + c;
                double t = (x[e] - mean64[r]) * rstd64[r];
                double allowed = Math.Pow(2, -22) * (Math.Abs(t * gamma[c]) + Math.Abs(beta[c])) + 1e-30;
                double diff = Math.Abs(y[e] - expected[e]);
                if (!(diff <= allowed)) Assert.Fail($"{what}: y[{r},{c}] = {y[e]:G9}, float64 {expected[e]:G9}, |diff| {diff:G3} > {allowed:G3}");
            }
            if (mean is not null) Assert.Equal(mean64[r], mean[r], Math.Abs(mean64[r]) * 1e-7 + 1e-30);
            if (rstd is not null) Assert.Equal(rstd64[r], rstd[r], rstd64[r] * 1e-7);
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void Forward_EveryLengthUpTo3Vectors_MatchesFloat64(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        foreach (int cols in KernelTestData.TailLengths.Skip(1))
        {
            const int rows = 3;
            var x = KernelTestData.Uniform(rows * cols, cols, -3f, 5f);
            var gamma = KernelTestData.Uniform(cols, cols + 1, 0.5f, 1.5f);
            var beta = KernelTestData.Uniform(cols, cols + 2, -0.5f, 0.5f);
            var y = new float[rows * cols];
            var mean = new float[rows];
            var rstd = new float[rows];
            LayerNorm.Forward(x, gamma, beta, 1e-5f, y, rows, cols, mean, rstd);
            AssertMatchesFloat64(x, gamma, beta, 1e-5f, y, rows, cols, $"{path} cols={cols}", mean, rstd);
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void Forward_OutlierRowsTinyEps_MatchesFloat64(VectorPath path)
    {
        // BERT-style residual rows: O(1) values plus a few outliers ~200 in fixed dimensions, eps = 1e-12
        using var _ = VectorPaths.LimitForCurrentThread(path);
        const int rows = 16, cols = 384;
        var x = KernelTestData.Uniform(rows * cols, 5, -1f, 1f);
        for (int r = 0; r < rows; r++) { x[r * cols + 17] = 210f; x[r * cols + 300] = -190f + r; }
        var gamma = KernelTestData.Uniform(cols, 6, 0.5f, 1.5f);
        var beta = KernelTestData.Uniform(cols, 7, -0.5f, 0.5f);
        var y = new float[rows * cols];
        LayerNorm.Forward(x, gamma, beta, 1e-12f, y, rows, cols);
        AssertMatchesFloat64(x, gamma, beta, 1e-12f, y, rows, cols, $"{path} outliers");
    }

    [Theory, MemberData(nameof(Paths))]
    public void Forward_LargeOffsetRows_MatchesFloat64(VectorPath path)
    {
        // mean 1000, spread ~0.01: E[x²] − μ² in float32 would lose every digit; the two-pass float64 path must not
        using var _ = VectorPaths.LimitForCurrentThread(path);
        const int rows = 4, cols = 100;
        var x = KernelTestData.Uniform(rows * cols, 8, -0.01f, 0.01f);
        for (int e = 0; e < x.Length; e++) x[e] += 1000f;
        var gamma = KernelTestData.Filled(cols, 1f);
        var beta = KernelTestData.Filled(cols, 0f);
        var y = new float[rows * cols];
        var mean = new float[rows];
        var rstd = new float[rows];
        LayerNorm.Forward(x, gamma, beta, 1e-12f, y, rows, cols, mean, rstd);
        AssertMatchesFloat64(x, gamma, beta, 1e-12f, y, rows, cols, $"{path} offset", mean, rstd);
    }

    [Theory, MemberData(nameof(Paths))]
    public void Forward_InPlace_EqualsOutOfPlace(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        const int rows = 5, cols = 67;
        var x = KernelTestData.Uniform(rows * cols, 9, -2f, 2f);
        var gamma = KernelTestData.Uniform(cols, 10);
        var beta = KernelTestData.Uniform(cols, 11);
        var y = new float[rows * cols];
        LayerNorm.Forward(x, gamma, beta, 1e-5f, y, rows, cols);
        LayerNorm.Forward(x, gamma, beta, 1e-5f, x, rows, cols);
        Assert.Equal(y, x);
    }

    [Theory, MemberData(nameof(Paths))]
    public void Forward_VectorPath_MatchesReference(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        const int rows = 7, cols = 384;
        var x = KernelTestData.Uniform(rows * cols, 12, -4f, 4f);
        var gamma = KernelTestData.Uniform(cols, 13);
        var beta = KernelTestData.Uniform(cols, 14);
        var y = new float[rows * cols];
        var expected = new float[rows * cols];
        var mean = new float[rows];
        var meanRef = new float[rows];
        LayerNorm.Forward(x, gamma, beta, 1e-12f, y, rows, cols, mean);
        LayerNorm.Reference(x, gamma, beta, 1e-12f, expected, rows, cols, meanRef);
        Assert.True(Infrastructure.Compare.MaxAbsDiff(expected, y) <= 1e-6, $"max |diff| {Infrastructure.Compare.MaxAbsDiff(expected, y):G3}");
        Assert.Equal(meanRef, mean);
    }

    [Fact]
    public void Forward_ConstantRow_WritesBeta()
    {
        const int cols = 384;
        var x = KernelTestData.Filled(cols, 0.1f);
        var gamma = KernelTestData.Uniform(cols, 15);
        var beta = KernelTestData.Uniform(cols, 16);
        var y = new float[cols];
        var rstd = new float[1];
        LayerNorm.Forward(x, gamma, beta, 1e-12f, y, 1, cols, rstd: rstd);
        Assert.Equal(beta, y);
        Assert.Equal(1e6f, rstd[0], 1f);
    }

    [Fact]
    public void Forward_ZeroRows_DoesNothing() => LayerNorm.Forward([], new float[4], new float[4], 1e-5f, [], 0, 4);

    [Fact]
    public void Forward_GammaLengthMismatch_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => LayerNorm.Forward(new float[8], new float[3], new float[4], 1e-5f, new float[8], 2, 4));
        Assert.Equal("gamma", ex.ParamName);
        Assert.Contains("LayerNorm.Forward", ex.Message);
        Assert.Contains("has 3 elements; expected 4", ex.Message);
    }

    [Fact]
    public void Forward_OtherLengthMismatches_Throw()
    {
        Assert.Equal("x", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(new float[7], new float[4], new float[4], 1e-5f, new float[8], 2, 4)).ParamName);
        Assert.Equal("y", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(new float[8], new float[4], new float[4], 1e-5f, new float[9], 2, 4)).ParamName);
        Assert.Equal("beta", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(new float[8], new float[4], new float[5], 1e-5f, new float[8], 2, 4)).ParamName);
        Assert.Equal("mean", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(new float[8], new float[4], new float[4], 1e-5f, new float[8], 2, 4, mean: new float[3])).ParamName);
        Assert.Equal("rstd", Assert.Throws<ArgumentException>(() => LayerNorm.Forward(new float[8], new float[4], new float[4], 1e-5f, new float[8], 2, 4, rstd: new float[1])).ParamName);
        Assert.Throws<ArgumentOutOfRangeException>(() => LayerNorm.Forward(new float[8], new float[4], new float[4], float.NaN, new float[8], 2, 4));
    }

    [Fact]
    public void Forward_PartialOverlap_Throws()
    {
        var buffer = new float[12];
        var ex = Assert.Throws<ArgumentException>(() => LayerNorm.Forward(buffer.AsSpan(0, 8), new float[4], new float[4], 1e-5f, buffer.AsSpan(4, 8), 2, 4));
        Assert.Contains("partially overlaps", ex.Message);
    }

    [Theory, MemberData(nameof(KernelTestData.Paths), MemberType = typeof(KernelTestData))]
    public void Forward_ParallelRows_EqualsSerialBitForBit(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        const int rows = 301, cols = 384;
        var x = KernelTestData.Uniform(rows * cols, 1, -3, 3);
        var gamma = KernelTestData.Uniform(cols, 2);
        var beta = KernelTestData.Uniform(cols, 3);
        var serial = new float[rows * cols];
        var parallel = new float[rows * cols];
        float[] mean = new float[rows], rstd = new float[rows], meanP = new float[rows], rstdP = new float[rows];
        LayerNorm.Forward(x, gamma, beta, 1e-12f, serial, rows, cols, mean, rstd);
        int before = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 3;
            LayerNorm.Forward(x, gamma, beta, 1e-12f, parallel, rows, cols, meanP, rstdP, parallel: true);
        }
        finally { Parallelism.MaxThreads = before; }
        Assert.Equal(serial, parallel);
        Assert.Equal(mean, meanP);
        Assert.Equal(rstd, rstdP);
    }
}
