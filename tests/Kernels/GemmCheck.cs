using MixLens.Kernels;

namespace MixLens.Tests.Kernels;

/// <summary>Runs one GEMM shape through the kernel and its reference and compares them.</summary>
internal static class GemmCheck
{
    /// <summary>Odd and even sizes around the micro-kernel blocks (1, 2, 4), vector widths (4, 8, 16) and tiles (32, 64).</summary>
    public static readonly int[] Sizes = [0, 1, 3, 4, 5, 17, 63, 64, 65, 129];
    public static readonly int[] Depths = [0, 1, 3, 15, 16, 17, 31, 33, 63, 64, 65, 384];

    /// <summary>
    /// Data kinds: <see cref="Data.Integers"/> makes every summation order exact, so the kernel must equal the reference
    /// bit for bit (catches any indexing slip, however small); <see cref="Data.Floats"/> checks real rounding against
    /// the float32 error bound.
    /// </summary>
    public enum Data { Integers, Floats }

    public static void NT(int m, int n, int k, bool withBias, bool parallel, int padA, int padB, int padC, int seed, Data data)
    {
        int lda = k + padA, ldb = k + padB, ldc = n + padC;
        var a = Make(m * lda, seed, data);
        var b = Make(n * ldb, seed + 7919, data);
        var bias = withBias ? Make(n, seed + 104729, data) : [];
        var c = KernelTestData.Filled(m * ldc, float.NaN);
        var expected = KernelTestData.Filled(m * ldc, float.NaN);
        Gemm.MatMulNT(a, lda, b, ldb, c, ldc, m, n, k, bias, parallel);
        Gemm.ReferenceNT(a, lda, b, ldb, expected, ldc, m, n, k, bias);
        float[]? scale = null;
        if (data == Data.Floats)
        {
            scale = new float[m * ldc];
            Gemm.ReferenceNT(Abs(a), lda, Abs(b), ldb, scale, ldc, m, n, k, Abs(bias));
        }
        AssertClose(expected, c, scale, k, m, n, ldc, $"MatMulNT m={m} n={n} k={k} bias={withBias} parallel={parallel} lda={lda} ldb={ldb} ldc={ldc} {data}");
    }

    public static void NN(int m, int n, int k, bool parallel, int padA, int padB, int padC, int seed, Data data)
    {
        int lda = k + padA, ldb = n + padB, ldc = n + padC;
        var a = Make(m * lda, seed, data);
        var b = Make(k * ldb, seed + 7919, data);
        var c = KernelTestData.Filled(m * ldc, float.NaN);
        var expected = KernelTestData.Filled(m * ldc, float.NaN);
        Gemm.MatMulNN(a, lda, b, ldb, c, ldc, m, n, k, parallel);
        Gemm.ReferenceNN(a, lda, b, ldb, expected, ldc, m, n, k);
        float[]? scale = null;
        if (data == Data.Floats)
        {
            scale = new float[m * ldc];
            Gemm.ReferenceNN(Abs(a), lda, Abs(b), ldb, scale, ldc, m, n, k);
        }
        AssertClose(expected, c, scale, k, m, n, ldc, $"MatMulNN m={m} n={n} k={k} parallel={parallel} lda={lda} ldb={ldb} ldc={ldc} {data}");
    }

    static float[] Make(int length, int seed, Data data)
        => data == Data.Integers ? KernelTestData.SmallIntegers(length, seed) : KernelTestData.Uniform(length, seed);

    static float[] Abs(float[] x)
    {
        var y = new float[x.Length];
        for (int i = 0; i < x.Length; i++) y[i] = Math.Abs(x[i]);
        return y;
    }

    /// <summary>
    /// Exact equality when <paramref name="scale"/> is null, else |C − C_ref| ≤ γ·scale with γ = (k + 2)·2⁻²⁴ (the
    /// float32 bound for any summation order, FMA or not, scale = Σ|a||b| + |bias|); and every element outside the
    /// m×n block (the ldc padding) still NaN, i.e. never written.
    /// </summary>
    public static void AssertClose(float[] expected, float[] actual, float[]? scale, int k, int m, int n, int ldc, string what)
    {
        double gamma = (k + 2) * Math.Pow(2, -24);
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                int e = i * ldc + j;
                double diff = Math.Abs((double)actual[e] - expected[e]);
                double allowed = scale is null ? 0 : gamma * scale[e];
                if (!(diff <= allowed))
                    Xunit.Assert.Fail($"{what}: C[{i},{j}] = {actual[e]:G9}, reference {expected[e]:G9}, |diff| {diff:G3} > allowed {allowed:G3}");
            }
            for (int j = n; j < ldc && i * ldc + j < actual.Length; j++)
                Xunit.Assert.True(float.IsNaN(actual[i * ldc + j]), $"{what}: padding C[{i},{j}] was written");
        }
    }
}
