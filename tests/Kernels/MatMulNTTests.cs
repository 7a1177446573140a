using MixLens.Kernels;
using static MixLens.Tests.Kernels.GemmCheck;

namespace MixLens.Tests.Kernels;

public class MatMulNTTests
{
    public static TheoryData<VectorPath> Paths => KernelTestData.Paths;

    public static TheoryData<VectorPath, int, int, int, bool> LargeShapes
    {
        get
        {
            var data = new TheoryData<VectorPath, int, int, int, bool>();
            foreach (var path in KernelTestData.AvailablePaths)
            {
                data.Add(path, 129, 384, 65, true);
                data.Add(path, 128, 384, 384, true);
            }
            data.Add(VectorPaths.Detected, 128, 384, 384, false);
            data.Add(VectorPaths.Detected, 128, 1536, 384, true);   // MiniLM FFN up-projection
            data.Add(VectorPaths.Detected, 128, 384, 1536, true);   // MiniLM FFN down-projection
            return data;
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void MatMulNT_ManyShapes_MatchesReferenceExactly(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        int seed = 0;
        foreach (int m in Sizes)
            foreach (int n in Sizes)
                foreach (int k in Depths)
                {
                    if ((long)m * n * k > 400_000) continue;   // the large shapes have their own test
                    NT(m, n, k, withBias: (seed & 1) == 0, parallel: (seed & 2) == 0, padA: seed % 3, padB: seed % 5, padC: seed % 4, seed++, Data.Integers);
                }
    }

    [Theory, MemberData(nameof(Paths))]
    public void MatMulNT_EveryDepthUpTo3Vectors_MatchesReference(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        foreach (int k in KernelTestData.TailLengths)
        {
            NT(5, 7, k, withBias: true, parallel: false, padA: 1, padB: 2, padC: 3, seed: k, Data.Integers);
            NT(4, 8, k, withBias: false, parallel: false, padA: 0, padB: 0, padC: 0, seed: 100 + k, Data.Floats);
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void MatMulNT_DepthSpanningSeveralKBlocks_MatchesReferenceExactly(VectorPath path)
    {
        // K > 768 is cut into blocks of 512 that accumulate into C; the bias must be added exactly once
        using var _ = VectorPaths.LimitForCurrentThread(path);
        foreach (int k in new[] { 769, 1024, 1100, 1536 })
        {
            NT(9, 7, k, withBias: true, parallel: false, padA: 1, padB: 3, padC: 2, seed: k, Data.Integers);
            NT(70, 66, k, withBias: true, parallel: true, padA: 0, padB: 0, padC: 0, seed: k + 1, Data.Integers);
        }
    }

    [Theory, MemberData(nameof(LargeShapes))]
    public void MatMulNT_LargeShapes_WithinFloat32Bound(VectorPath path, int m, int n, int k, bool parallel)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        NT(m, n, k, withBias: true, parallel, padA: 3, padB: 0, padC: 7, seed: m + n + k, Data.Floats);
    }

    [Theory, MemberData(nameof(Paths))]
    public void MatMulNT_ParallelAndSerial_AreBitIdentical(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        const int m = 130, n = 200, k = 96;
        var a = KernelTestData.Uniform(m * k, 1);
        var b = KernelTestData.Uniform(n * k, 2);
        var bias = KernelTestData.Uniform(n, 3);
        var serial = new float[m * n];
        var parallel = new float[m * n];
        Gemm.MatMulNT(a, k, b, k, serial, n, m, n, k, bias, parallel: false);
        Gemm.MatMulNT(a, k, b, k, parallel, n, m, n, k, bias, parallel: true);
        Assert.Equal(serial, parallel);
    }

    [Fact]
    public void MatMulNT_AttentionScoresPerHeadConcurrently_MatchReference()
    {
        // S_h = Q_h K_hᵀ with Q, K [n, d] and head h in columns [h·dh, (h+1)·dh): lda = ldb = d, k = dh
        const int n = 37, heads = 12, dh = 32, d = heads * dh;
        var q = KernelTestData.SmallIntegers(n * d, 11);
        var key = KernelTestData.SmallIntegers(n * d, 12);
        var failures = new System.Collections.Concurrent.ConcurrentBag<int>();
        Parallel.For(0, heads, h =>
        {
            var scores = new float[n * n];
            var expected = new float[n * n];
            Gemm.MatMulNT(q.AsSpan(h * dh), d, key.AsSpan(h * dh), d, scores, n, n, n, dh, parallel: false);
            Gemm.ReferenceNT(q.AsSpan(h * dh), d, key.AsSpan(h * dh), d, expected, n, n, n, dh);
            if (!scores.AsSpan().SequenceEqual(expected)) failures.Add(h);
        });
        Assert.Empty(failures);
    }

    [Fact]
    public void MatMulNT_ZeroDepth_WritesBiasOrZeros()
    {
        var c = KernelTestData.Filled(6, float.NaN);
        Gemm.MatMulNT([], 0, [], 0, c, 3, 2, 3, 0, bias: [1f, 2f, 3f]);
        Assert.Equal([1f, 2f, 3f, 1f, 2f, 3f], c);
        Gemm.MatMulNT([], 0, [], 0, c, 3, 2, 3, 0);
        Assert.All(c, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void MatMulNT_SmallKnownProduct_IsExact()
    {
        // A = [[1,2],[3,4]], B = [[5,6],[7,8]] (rows are output units): A Bᵀ = [[17,23],[39,53]], + bias [1, -1]
        float[] c = new float[4];
        Gemm.MatMulNT([1, 2, 3, 4], 2, [5, 6, 7, 8], 2, c, 2, 2, 2, 2, bias: [1, -1]);
        Assert.Equal([18f, 22f, 40f, 52f], c);
    }

    [Fact]
    public void MatMulNT_ShortA_ThrowsWithShape()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.MatMulNT(new float[11], 4, new float[12], 4, new float[9], 3, 3, 3, 4));
        Assert.Equal("a", ex.ParamName);
        Assert.Contains("MatMulNT", ex.Message);
        Assert.Contains("span a has 11 elements", ex.Message);
        Assert.Contains("[3, 4] with lda = 4 needs at least 12", ex.Message);
    }

    [Fact]
    public void MatMulNT_ShortBOrC_Throws()
    {
        Assert.Equal("b", Assert.Throws<ArgumentException>(() => Gemm.MatMulNT(new float[12], 4, new float[11], 4, new float[9], 3, 3, 3, 4)).ParamName);
        Assert.Equal("c", Assert.Throws<ArgumentException>(() => Gemm.MatMulNT(new float[12], 4, new float[12], 4, new float[8], 3, 3, 3, 4)).ParamName);
    }

    [Fact]
    public void MatMulNT_PaddedLastRow_NeedsOnlyRowLength()
    {
        // with a padded leading dimension the last row needs k (or n) elements, not a full stride
        Gemm.MatMulNT(new float[2 * 6 + 4], 6, new float[12], 4, new float[2 * 5 + 3], 5, 3, 3, 4);
    }

    [Fact]
    public void MatMulNT_LeadingDimensionShorterThanRow_Throws()
    {
        var ex = Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MatMulNT(new float[100], 3, new float[100], 4, new float[100], 3, 3, 3, 4));
        Assert.Equal("lda", ex.ParamName);
        Assert.Contains("row length k = 4", ex.Message);
        Assert.Equal("ldb", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MatMulNT(new float[100], 4, new float[100], 2, new float[100], 3, 3, 3, 4)).ParamName);
        Assert.Equal("ldc", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MatMulNT(new float[100], 4, new float[100], 4, new float[100], 2, 3, 3, 4)).ParamName);
    }

    [Fact]
    public void MatMulNT_BiasLengthMismatch_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.MatMulNT(new float[12], 4, new float[12], 4, new float[9], 3, 3, 3, 4, bias: new float[4]));
        Assert.Equal("bias", ex.ParamName);
        Assert.Contains("expected 3", ex.Message);
    }

    [Fact]
    public void MatMulNT_NegativeDimension_Throws()
    {
        Assert.Equal("m", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MatMulNT([], 0, [], 0, [], 0, -1, 0, 0)).ParamName);
        Assert.Equal("n", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MatMulNT([], 0, [], 0, [], 0, 0, -1, 0)).ParamName);
    }

    [Fact]
    public void MatMulNT_OutputOverlapsWeight_Throws()
    {
        var buffer = new float[32];
        var ex = Assert.Throws<ArgumentException>(() => Gemm.MatMulNT(new float[16], 4, buffer.AsSpan(0, 16), 4, buffer.AsSpan(12, 16), 4, 4, 4, 4));
        Assert.Contains("overlaps input b", ex.Message);
    }
}
