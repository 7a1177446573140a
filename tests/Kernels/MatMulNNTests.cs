using MixLens.Kernels;
using static MixLens.Tests.Kernels.GemmCheck;

namespace MixLens.Tests.Kernels;

public class MatMulNNTests
{
    public static TheoryData<VectorPath> Paths => KernelTestData.Paths;

    public static TheoryData<VectorPath, int, int, int, bool> LargeShapes
    {
        get
        {
            var data = new TheoryData<VectorPath, int, int, int, bool>();
            foreach (var path in KernelTestData.AvailablePaths)
            {
                data.Add(path, 65, 129, 384, true);
                data.Add(path, 128, 384, 384, true);
            }
            data.Add(VectorPaths.Detected, 128, 384, 384, false);
            data.Add(VectorPaths.Detected, 384, 32, 384, false);   // probs · V_h for one head, 384 tokens
            return data;
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void MatMulNN_ManyShapes_MatchesReferenceExactly(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        int seed = 0;
        foreach (int m in Sizes)
            foreach (int n in Sizes.Append(32).Append(48).Append(384))
                foreach (int k in Depths)
                {
                    if ((long)m * n * k > 400_000) continue;
                    NN(m, n, k, parallel: (seed & 1) == 0, padA: seed % 3, padB: seed % 5, padC: seed % 4, seed++, Data.Integers);
                }
    }

    [Theory, MemberData(nameof(Paths))]
    public void MatMulNN_EveryWidthUpTo3Vectors_MatchesReference(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        foreach (int n in KernelTestData.TailLengths)
        {
            NN(5, n, 7, parallel: false, padA: 1, padB: 2, padC: 3, seed: n, Data.Integers);
            NN(8, n, 33, parallel: false, padA: 0, padB: 0, padC: 0, seed: 100 + n, Data.Floats);
        }
    }

    [Theory, MemberData(nameof(LargeShapes))]
    public void MatMulNN_LargeShapes_WithinFloat32Bound(VectorPath path, int m, int n, int k, bool parallel)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        NN(m, n, k, parallel, padA: 2, padB: 5, padC: 1, seed: m * n + k, Data.Floats);
    }

    [Theory, MemberData(nameof(Paths))]
    public void MatMulNN_ParallelAndSerial_AreBitIdentical(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        const int m = 130, n = 200, k = 96;
        var a = KernelTestData.Uniform(m * k, 1);
        var b = KernelTestData.Uniform(k * n, 2);
        var serial = new float[m * n];
        var parallel = new float[m * n];
        Gemm.MatMulNN(a, k, b, n, serial, n, m, n, k, parallel: false);
        Gemm.MatMulNN(a, k, b, n, parallel, n, m, n, k, parallel: true);
        Assert.Equal(serial, parallel);
    }

    [Theory, MemberData(nameof(Paths))]
    public void MatMulNN_HeadsWrittenConcurrently_EachHeadMatchesReference(VectorPath path)
    {
        // context[:, h·dh ..] = P_h V_h for every head at once into one [n, d] buffer, as self-attention does
        const int n = 45, heads = 6, dh = 24, d = heads * dh;
        var probs = Enumerable.Range(0, heads).Select(h => KernelTestData.SmallIntegers(n * n, 20 + h)).ToArray();
        var v = KernelTestData.SmallIntegers(n * d, 30);
        var context = new float[n * d];
        var expected = new float[n * d];
        Parallel.For(0, heads, h =>
        {
            using var _ = VectorPaths.LimitForCurrentThread(path);
            Gemm.MatMulNN(probs[h], n, v.AsSpan(h * dh), d, context.AsSpan(h * dh), d, n, dh, n, parallel: false);
        });
        for (int h = 0; h < heads; h++)
            Gemm.ReferenceNN(probs[h], n, v.AsSpan(h * dh), d, expected.AsSpan(h * dh), d, n, dh, n);
        Assert.Equal(expected, context);
    }

    [Fact]
    public void MatMulNN_SmallKnownProduct_IsExact()
    {
        // [[1,2],[3,4]] · [[5,6],[7,8]] = [[19,22],[43,50]]
        float[] c = new float[4];
        Gemm.MatMulNN([1, 2, 3, 4], 2, [5, 6, 7, 8], 2, c, 2, 2, 2, 2);
        Assert.Equal([19f, 22f, 43f, 50f], c);
    }

    [Fact]
    public void MatMulNN_ZeroDepth_WritesZeros()
    {
        var c = KernelTestData.Filled(6, float.NaN);
        Gemm.MatMulNN([], 0, [], 3, c, 3, 2, 3, 0);
        Assert.All(c, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void MatMulNN_ShortB_Throws()
    {
        var ex = Assert.Throws<ArgumentException>(() => Gemm.MatMulNN(new float[12], 4, new float[4 * 5 - 1], 5, new float[15], 5, 3, 5, 4));
        Assert.Equal("b", ex.ParamName);
        Assert.Contains("MatMulNN", ex.Message);
        Assert.Contains("[4, 5]", ex.Message);
    }

    [Fact]
    public void MatMulNN_LeadingDimensionShorterThanRow_Throws()
    {
        Assert.Equal("ldb", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MatMulNN(new float[100], 4, new float[100], 4, new float[100], 5, 3, 5, 4)).ParamName);
        Assert.Equal("ldc", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MatMulNN(new float[100], 4, new float[100], 5, new float[100], 4, 3, 5, 4)).ParamName);
    }

    [Fact]
    public void MatMulNN_NegativeDimension_Throws()
        => Assert.Equal("k", Assert.Throws<ArgumentOutOfRangeException>(() => Gemm.MatMulNN([], 0, [], 0, [], 0, 0, 0, -2)).ParamName);

    [Fact]
    public void MatMulNN_OutputOverlapsInput_Throws()
    {
        var buffer = new float[32];
        var ex = Assert.Throws<ArgumentException>(() => Gemm.MatMulNN(buffer.AsSpan(0, 16), 4, new float[16], 4, buffer.AsSpan(8, 16), 4, 4, 4, 4));
        Assert.Contains("overlaps input a", ex.Message);
    }

    [Fact]
    public void MatMulNN_SpansOverlapButUsedRegionsDisjoint_Runs()
    {
        // A uses buffer[0..16), C uses buffer[16..32): the spans overlap (A runs to the end) but the matrices do not
        var buffer = new float[32];
        Gemm.MatMulNN(buffer.AsSpan(0), 4, new float[16], 4, buffer.AsSpan(16), 4, 4, 4, 4);
    }
}
