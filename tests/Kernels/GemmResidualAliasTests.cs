using MixLens.Kernels;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Kernels;

/// <summary>The packed GEMM with its residual being C itself (C += A·B, as the backward accumulates gradients): the
/// tiles write partial sums into C every 64 steps of K, so the residual must be read before them.</summary>
public class GemmResidualAliasTests
{
    [Theory]
    [InlineData(12, 384, 384, true)]     // K = 384: one K block, several 64-step partial write-backs
    [InlineData(12, 1536, 384, true)]    // K blocked (3 × 512)
    [InlineData(7, 100, 45, false)]      // a partial panel (45 = 32 + 13), one thread
    [InlineData(130, 1536, 33, true)]    // many rows, partial panel, parallel
    public void MatMul_ResidualIsC_AddsProductOntoC(int m, int k, int n, bool parallel)
    {
        var rng = new Random(m * 31 + k);
        var a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var b = Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var bias = Enumerable.Range(0, n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var c = Enumerable.Range(0, m * n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var expected = new float[m * n];
        Gemm.ReferenceNN(a, k, b, n, expected, n, m, n, k);
        for (int i = 0; i < expected.Length; i++) expected[i] += c[i] + bias[i % n];

        Gemm.MatMul(a, k, PackedMatrix.From(b, k, n), c, n, m, new GemmEpilogue { Bias = bias, Residual = c, ResidualStride = n }, parallel);

        Compare.AllClose("C += A·B + bias", expected, c, [m, n], new Tolerance(1e-5 * k, 1e-5));
    }

    [Fact]
    public void MatMul_ResidualIsCWithAlpha_IsRefused()
    {
        var c = new float[4];
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.MatMul(new float[4], 2, PackedMatrix.From(new float[4], 2, 2), c, 2, 2, new GemmEpilogue { Alpha = 2, Residual = c, ResidualStride = 2 }));
        Assert.Contains("C itself", ex.Message);
    }
}
