using MixLens.Kernels;

namespace MixLens.Tests.Kernels;

/// <summary>
/// The packed GEMM (<see cref="Gemm.MatMul(ReadOnlySpan{float}, int, PackedMatrix, Span{float}, int, int, in GemmEpilogue, bool)"/>)
/// against the naive float64 references <see cref="Gemm.ReferenceNT"/> / <see cref="Gemm.ReferenceNN"/>, on every vector
/// path, for shapes around the micro-tile (12 or 6 rows), the panel (32 columns), the K blocks (768 / 512) and primes.
/// </summary>
public class PackedGemmTests
{
    public static TheoryData<VectorPath> Paths => KernelTestData.Paths;

    static readonly int[] Rows = [0, 1, 2, 5, 6, 7, 11, 12, 13, 25, 37];
    static readonly int[] Cols = [0, 1, 7, 16, 31, 32, 33, 65, 97];
    static readonly int[] Depths = [0, 1, 3, 17, 64, 97, 384];

    /// <summary>C = A Wᵀ (+ bias) with W packed by PackTransposed, and C = A B with B packed by Pack; small-integer data
    /// makes every summation order exact, so the comparison is bit for bit.</summary>
    [Theory, MemberData(nameof(Paths))]
    public void MatMul_ManyShapes_MatchesReferenceExactly(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        int seed = 0;
        foreach (int m in Rows)
            foreach (int n in Cols)
                foreach (int k in Depths)
                {
                    if ((long)m * n * k > 300_000) continue;
                    CheckNT(m, n, k, withBias: (seed & 1) == 0, parallel: (seed & 2) == 0, padA: seed % 3, padC: seed % 4, seed);
                    CheckNN(m, n, k, parallel: (seed & 4) == 0, padA: seed % 2, padB: seed % 3, padC: seed % 5, seed + 1);
                    seed++;
                }
    }

    [Theory, MemberData(nameof(Paths))]
    public void MatMul_DepthSpanningSeveralKBlocks_MatchesReferenceExactly(VectorPath path)
    {
        // K > 768 is packed in blocks of about 512 whose products add into C; the epilogue applies once, at the end
        using var _ = VectorPaths.LimitForCurrentThread(path);
        foreach (int k in new[] { 769, 1031, 1536 })
        {
            CheckNT(13, 33, k, withBias: true, parallel: false, padA: 1, padC: 2, seed: k);
            CheckNT(70, 66, k, withBias: true, parallel: true, padA: 0, padC: 0, seed: k + 1);
            CheckNN(7, 40, k, parallel: true, padA: 2, padB: 1, padC: 0, seed: k + 2);
        }
    }

    [Theory, MemberData(nameof(Paths))]
    public void MatMul_LargeShapes_WithinFloat32Bound(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        foreach (var (m, n, k) in new[] { (128, 384, 384), (129, 97, 1536), (31, 1536, 384) })
        {
            int lda = k + 3, ldc = n + 5;
            var a = KernelTestData.Uniform(m * lda, m);
            var w = KernelTestData.Uniform(n * k, n);
            var bias = KernelTestData.Uniform(n, k);
            var c = KernelTestData.Filled(m * ldc, float.NaN);
            var expected = KernelTestData.Filled(m * ldc, float.NaN);
            var scale = new float[m * ldc];
            Gemm.MatMul(a, lda, PackedMatrix.FromTransposed(w, n, k), c, ldc, m, new GemmEpilogue { Bias = bias });
            Gemm.ReferenceNT(a, lda, w, k, expected, ldc, m, n, k, bias);
            Gemm.ReferenceNT(Abs(a), lda, Abs(w), k, scale, ldc, m, n, k, Abs(bias));
            GemmCheck.AssertClose(expected, c, scale, k, m, n, ldc, $"packed MatMul m={m} n={n} k={k} path={path}");
        }
    }

    /// <summary>
    /// Each epilogue equals the unfused sequence: the plain product, then ×α, + bias, the activation on each row, + R,
    /// each a separate pass, bit for bit (same operations in the same order; the activation sees whole vectors at the
    /// same offsets because a panel is a whole number of vectors).
    /// </summary>
    [Theory, MemberData(nameof(Paths))]
    public void MatMul_Epilogues_EqualTheUnfusedSequence(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        foreach (var activation in Enum.GetValues<GemmActivation>())
            foreach (var (m, n, k) in new[] { (1, 1, 1), (13, 33, 17), (25, 70, 384), (12, 64, 1031) })
                foreach (bool residual in new[] { false, true })
                    foreach (float alpha in new[] { 1f, 0.17677669f })
                    {
                        int lda = k + 1, ldc = n + 2, ldr = n + 3;
                        var a = KernelTestData.Uniform(m * lda, m + n, -2, 2);
                        var w = KernelTestData.Uniform(n * k, k, -0.3f, 0.3f);
                        var bias = KernelTestData.Uniform(n, n + 1);
                        var r = KernelTestData.Uniform(m * ldr, n + 2);
                        var packed = PackedMatrix.FromTransposed(w, n, k);

                        var fused = KernelTestData.Filled(m * ldc, float.NaN);
                        Gemm.MatMul(a, lda, packed, fused, ldc, m, new GemmEpilogue
                        {
                            Alpha = alpha, Bias = bias, Activation = activation,
                            Residual = residual ? r : default, ResidualStride = residual ? ldr : 0,
                        });

                        var expected = KernelTestData.Filled(m * ldc, float.NaN);
                        Gemm.MatMul(a, lda, packed, expected, ldc, m);
                        for (int i = 0; i < m; i++)
                        {
                            var row = expected.AsSpan(i * ldc, n);
                            for (int j = 0; j < n; j++)
                            {
                                if (alpha != 1f) row[j] *= alpha;
                                row[j] += bias[j];
                            }
                            switch (activation)
                            {
                                case GemmActivation.Gelu: Activations.Gelu(row); break;
                                case GemmActivation.GeluTanh: Activations.GeluTanh(row); break;
                                case GemmActivation.Relu: Activations.Relu(row); break;
                            }
                            if (residual) for (int j = 0; j < n; j++) row[j] += r[i * ldr + j];
                        }
                        string what = $"{activation} residual={residual} alpha={alpha} m={m} n={n} k={k} path={path}";
                        Assert.True(expected.AsSpan().SequenceEqual(fused), what + ": fused and unfused differ");
                    }
    }

    /// <summary>On one thread, an A whose K block is larger than L2 (here 1100 rows × a 512-deep block = 2.2 MB, more than
    /// any L2 in use) runs in row chunks (<c>Gemm.RowTilesInL2</c>): every tile still once, sums in the same order.</summary>
    [Theory, MemberData(nameof(Paths))]
    public void MatMul_ManyRowsOnOneThread_RunsInRowChunks_MatchesReferenceExactly(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        Assert.True(1100L * Gemm.KBlockSize(1536) * sizeof(float) > CacheSizes.L2, $"L2 of {CacheSizes.L2} bytes: the test no longer chunks");
        Assert.InRange(Gemm.RowTilesInL2(1536, 6), 1, 1100 / 6 - 1);
        CheckNT(1100, 40, 1536, withBias: true, parallel: false, padA: 1, padC: 3, seed: 11);
    }

    [Fact]
    public void CacheSizes_AreReadOrDefaulted_AndSizesParse()
    {
        Assert.InRange(CacheSizes.L1Data, 4 << 10, 16 << 20);
        Assert.InRange(CacheSizes.L2, 64 << 10, 1 << 30);
        Assert.Equal(512 << 10, CacheSizes.ParseSize("512K\n"));
        Assert.Equal(32 << 20, CacheSizes.ParseSize("32768K"));
        Assert.Equal(2 << 20, CacheSizes.ParseSize("2M"));
        Assert.Equal(48, CacheSizes.ParseSize("48"));
        Assert.Null(CacheSizes.ParseSize(""));
        Assert.Null(CacheSizes.ParseSize("-1K"));
        Assert.Null(CacheSizes.ParseSize("9999999999K"));
    }

    [Theory, MemberData(nameof(Paths))]
    public void MatMul_OneThreadAndAllThreads_AreBitIdentical(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        const int m = 130, n = 200, k = 800;
        var a = KernelTestData.Uniform(m * k, 1);
        var packed = PackedMatrix.FromTransposed(KernelTestData.Uniform(n * k, 2), n, k);
        var bias = KernelTestData.Uniform(n, 3);
        var serial = new float[m * n];
        var parallel = new float[m * n];
        var oneThread = new float[m * n];
        var fiveThreads = new float[m * n];
        var epilogue = new GemmEpilogue { Bias = bias, Activation = GemmActivation.Gelu };
        Gemm.MatMul(a, k, packed, serial, n, m, epilogue, parallel: false);
        Gemm.MatMul(a, k, packed, parallel, n, m, epilogue, parallel: true);
        int before = Parallelism.MaxThreads;
        try
        {
            Parallelism.MaxThreads = 1;
            Gemm.MatMul(a, k, packed, oneThread, n, m, epilogue);
            Parallelism.MaxThreads = 5;   // more threads than this machine may have cores: still every tile once
            Gemm.MatMul(a, k, packed, fiveThreads, n, m, epilogue);
        }
        finally { Parallelism.MaxThreads = before; }
        Assert.Equal(serial, parallel);
        Assert.Equal(serial, oneThread);
        Assert.Equal(serial, fiveThreads);
    }

    /// <summary>MatMulNT with 2048 rows or more packs B on the fly and runs the packed GEMM.</summary>
    [Theory, MemberData(nameof(Paths))]
    public void MatMulNT_TallA_PacksOnTheFlyAndMatchesReferenceExactly(VectorPath path)
    {
        using var _ = VectorPaths.LimitForCurrentThread(path);
        GemmCheck.NT(2049, 65, 800, withBias: true, parallel: true, padA: 1, padB: 2, padC: 3, seed: 5, GemmCheck.Data.Integers);
        GemmCheck.NT(2048, 33, 97, withBias: false, parallel: false, padA: 0, padB: 0, padC: 1, seed: 6, GemmCheck.Data.Integers);
        GemmCheck.NT(2048, 40, 384, withBias: true, parallel: true, padA: 0, padB: 0, padC: 0, seed: 7, GemmCheck.Data.Floats);
    }

    [Fact]
    public void MatMul_ResidualIsCItself_AddsInPlace()
    {
        // C = A Wᵀ + C: the residual may be C (same memory, same stride)
        var a = new float[] { 1, 2, 3, 4 };
        var packed = PackedMatrix.FromTransposed([5, 6, 7, 8], 2, 2);
        var c = new float[] { 100, 200, 300, 400 };
        Gemm.MatMul(a, 2, packed, c, 2, 2, new GemmEpilogue { Residual = c, ResidualStride = 2 });
        Assert.Equal([117f, 223f, 339f, 453f], c);
    }

    [Fact]
    public void MatMul_SmallKnownProduct_IsExact()
    {
        // A = [[1,2],[3,4]], W = [[5,6],[7,8]]: A Wᵀ = [[17,23],[39,53]]; + bias [1, -1]; ×2 first
        var c = new float[4];
        Gemm.MatMul([1, 2, 3, 4], 2, PackedMatrix.FromTransposed([5, 6, 7, 8], 2, 2), c, 2, 2,
            new GemmEpilogue { Alpha = 2, Bias = [1, -1] });
        Assert.Equal([35f, 45f, 79f, 105f], c);
        // the same B given as [k, n] = Wᵀ
        Gemm.MatMul([1, 2, 3, 4], 2, PackedMatrix.From([5, 7, 6, 8], 2, 2), c, 2, 2);
        Assert.Equal([17f, 23f, 39f, 53f], c);
    }

    [Fact]
    public void PackedSize_IsWholePanelsTimesK()
    {
        int w = Gemm.PanelWidth; // 32 with AVX-512, else 16
        Assert.Equal(VectorPaths.Detected == VectorPath.Vector512 ? 32 : 16, w);
        Assert.Equal(0, Gemm.PackedSize(0, 5));
        Assert.Equal(w * 5, Gemm.PackedSize(1, 5));
        Assert.Equal(w * 5, Gemm.PackedSize(w, 5));
        Assert.Equal(2 * w * 384, Gemm.PackedSize(w + 1, 384));
        Assert.Equal(384 * 1536, Gemm.PackedSize(384, 1536));
    }

    [Fact]
    public void MatMulPacked_ShortPackedB_ThrowsWithSize()
    {
        // a [4, 3] B packs into one panel of PanelWidth × 4 floats; one fewer must be refused
        var ex = Assert.Throws<ArgumentException>(() => Gemm.MatMulPacked(new float[8], 4, new float[Gemm.PanelWidth * 4 - 1], 3, 4, new float[6], 3, 2));
        Assert.Contains("PackedSize", ex.Message);
    }

    [Fact]
    public void MatMul_BiasLengthMismatch_Throws()
    {
        var packed = PackedMatrix.FromTransposed(new float[12], 3, 4);
        var ex = Assert.Throws<ArgumentException>(() => Gemm.MatMul(new float[12], 4, packed, new float[9], 3, 3, new GemmEpilogue { Bias = new float[4] }));
        Assert.Contains("expected 3", ex.Message);
    }

    [Fact]
    public void MatMul_OutputOverlapsInput_Throws()
    {
        var buffer = new float[32];
        var packed = PackedMatrix.FromTransposed(new float[16], 4, 4);
        var ex = Assert.Throws<ArgumentException>(() => Gemm.MatMul(buffer.AsSpan(0, 16), 4, packed, buffer.AsSpan(12, 16), 4, 4));
        Assert.Contains("overlaps input a", ex.Message);
    }

    static void CheckNT(int m, int n, int k, bool withBias, bool parallel, int padA, int padC, int seed)
    {
        int lda = k + padA, ldc = n + padC;
        var a = KernelTestData.SmallIntegers(m * lda, seed);
        var w = KernelTestData.SmallIntegers(n * k, seed + 7919);
        var bias = withBias ? KernelTestData.SmallIntegers(n, seed + 104729) : [];
        var c = KernelTestData.Filled(m * ldc, float.NaN);
        var expected = KernelTestData.Filled(m * ldc, float.NaN);
        Gemm.MatMul(a, lda, PackedMatrix.FromTransposed(w, n, k), c, ldc, m, new GemmEpilogue { Bias = bias }, parallel);
        Gemm.ReferenceNT(a, lda, w, k, expected, ldc, m, n, k, bias);
        GemmCheck.AssertClose(expected, c, null, k, m, n, ldc, $"packed NT m={m} n={n} k={k} bias={withBias} parallel={parallel} lda={lda} ldc={ldc}");
    }

    static void CheckNN(int m, int n, int k, bool parallel, int padA, int padB, int padC, int seed)
    {
        int lda = k + padA, ldb = n + padB, ldc = n + padC;
        var a = KernelTestData.SmallIntegers(m * lda, seed);
        var b = KernelTestData.SmallIntegers(k * ldb, seed + 7919);
        var packed = new float[Gemm.PackedSize(n, k)];
        Gemm.Pack(b, ldb, k, n, packed);
        var c = KernelTestData.Filled(m * ldc, float.NaN);
        var expected = KernelTestData.Filled(m * ldc, float.NaN);
        Gemm.MatMulPacked(a, lda, packed, n, k, c, ldc, m, parallel: parallel);
        Gemm.ReferenceNN(a, lda, b, ldb, expected, ldc, m, n, k);
        GemmCheck.AssertClose(expected, c, null, k, m, n, ldc, $"packed NN m={m} n={n} k={k} parallel={parallel} lda={lda} ldb={ldb} ldc={ldc}");
    }

    static float[] Abs(float[] x) => x.Select(Math.Abs).ToArray();
}
