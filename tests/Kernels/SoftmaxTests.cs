using MixLens.Kernels;

namespace MixLens.Tests.Kernels;

public class SoftmaxTests
{
    public static TheoryData<VectorPath> Paths => KernelTestData.Paths;

    [Theory, MemberData(nameof(Paths))]
    public void Rows_EveryLengthUpTo3Vectors_MatchesFloat64Within1e6(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        foreach (int cols in KernelTestData.TailLengths)
        {
            const int rows = 3;
            var x = KernelTestData.Uniform(rows * cols, cols, -20f, 20f);
            var expected = (float[])x.Clone();
            Softmax.Reference(expected, rows, cols);
            Softmax.Rows(x, rows, cols);
            double diff = Infrastructure.Compare.MaxAbsDiff(expected, x);
            Assert.True(diff <= 1e-6, $"{path} cols={cols}: max |diff| {diff:G3}");
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void Rows_AttentionSizedRows_SumToOneAndMatchFloat64(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        const int rows = 64, cols = 384;
        var x = KernelTestData.Uniform(rows * cols, 7, -8f, 8f);
        var expected = (float[])x.Clone();
        Softmax.Reference(expected, rows, cols);
        Softmax.Rows(x, rows, cols);
        Assert.True(Infrastructure.Compare.MaxAbsDiff(expected, x) <= 1e-6, $"max |diff| {Infrastructure.Compare.MaxAbsDiff(expected, x):G3}");
        for (int r = 0; r < rows; r++)
        {
            double sum = 0;
            for (int c = 0; c < cols; c++) sum += x[r * cols + c];
            Assert.True(Math.Abs(sum - 1) < 1e-5, $"row {r} sums to {sum}");
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void Rows_NegativeInfinityEntries_BecomeExactlyZero(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        float ninf = float.NegativeInfinity;
        float[] x = [1f, ninf, 2f, ninf, ninf, 0f, ninf, 3f];
        Softmax.Rows(x, 2, 4);
        Assert.Equal(0f, x[1]);
        Assert.Equal(0f, x[3]);
        Assert.Equal(0f, x[4]);
        Assert.Equal(0f, x[6]);
        // the rest is the softmax over the unmasked entries
        Assert.Equal(1 / (1 + Math.E), x[0], 1e-6);
        Assert.Equal(Math.E / (1 + Math.E), x[2], 1e-6);
        Assert.Equal(1 / (1 + Math.Exp(3)), x[5], 1e-6);
        Assert.Equal(Math.Exp(3) / (1 + Math.Exp(3)), x[7], 1e-6);
    }

    [Theory, MemberData(nameof(Paths))]
    public void Rows_FullyMaskedRow_WritesZeros(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        var x = new float[3 * 20];
        Array.Fill(x, 0.5f);
        x.AsSpan(20, 20).Fill(float.NegativeInfinity);
        Softmax.Rows(x, 3, 20);
        Assert.All(x.AsSpan(20, 20).ToArray(), v => Assert.Equal(0f, v));
        Assert.All(x.AsSpan(0, 20).ToArray(), v => Assert.Equal(0.05f, v, 1e-7f));
        Assert.All(x.AsSpan(40, 20).ToArray(), v => Assert.Equal(0.05f, v, 1e-7f));
    }

    [Theory, MemberData(nameof(Paths))]
    public void Rows_HugeLogits_DoNotOverflow(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        float[] x = [1e4f, 1e4f - 1f, -1e4f, 3e38f, 3e38f, 3e38f];
        Softmax.Rows(x, 2, 3);
        Assert.Equal(1 / (1 + Math.Exp(-1)), x[0], 1e-6);
        Assert.Equal(Math.Exp(-1) / (1 + Math.Exp(-1)), x[1], 1e-6);
        Assert.Equal(0f, x[2]);
        Assert.All(x[3..], v => Assert.Equal(1f / 3, v, 1e-7f));
    }

    [Fact]
    public void Rows_MaskedKeysInLongRows_AreZeroAndRestMatchesFloat64()
    {
        // padding masks: the last keys of each row are -inf, on every vector path
        foreach (var path in KernelTestData.AvailablePaths)
        {
            using var _ = VectorPaths.LimitForCurrentThread(path);
            const int rows = 4, cols = 77;
            var x = KernelTestData.Uniform(rows * cols, 3, -10f, 10f);
            for (int r = 0; r < rows; r++) x.AsSpan(r * cols + 40 + r, cols - 40 - r).Fill(float.NegativeInfinity);
            var expected = (float[])x.Clone();
            Softmax.Reference(expected, rows, cols);
            Softmax.Rows(x, rows, cols);
            Assert.True(Infrastructure.Compare.MaxAbsDiff(expected, x) <= 1e-6, $"{path}: max |diff| {Infrastructure.Compare.MaxAbsDiff(expected, x):G3}");
            for (int r = 0; r < rows; r++) Assert.All(x.AsSpan(r * cols + 40 + r, cols - 40 - r).ToArray(), v => Assert.Equal(0f, v));
        }
    }

    [Fact]
    public void Rows_SingleColumn_IsOneUnlessMasked()
    {
        float[] x = [-5f, float.NegativeInfinity, 7f];
        Softmax.Rows(x, 3, 1);
        Assert.Equal([1f, 0f, 1f], x);
    }

    [Fact]
    public void Rows_ZeroRowsOrColumns_DoesNothing()
    {
        Softmax.Rows([], 0, 5);
        Softmax.Rows([], 4, 0);
    }

    [Fact]
    public void Rows_LengthMismatch_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Softmax.Rows(new float[10], 3, 4));
        Assert.Equal("x", ex.ParamName);
        Assert.Contains("has 10 elements; expected 12", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Softmax.Rows(new float[10], -1, 4));
    }
}
