using MixLens.Gpu.Kernels;
using MixLens.Kernels;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Gpu;

/// <summary>Each GPU kernel on ILGPU's CPU accelerator against the SIMD kernels, at small odd shapes.</summary>
[Collection(SimulatorCollection.Name)]
public class GpuKernelTests(SimulatorFixture simulator)
{
    static float[] Random(int length, int seed, float scale = 1f)
    {
        var rng = new Random(seed);
        var x = new float[length];
        for (int i = 0; i < length; i++) x[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return x;
    }

    [Theory]
    [InlineData(5, 7, 9)]
    [InlineData(17, 33, 29)]
    public void Gemm_LinearWithBiasGeluResidual_MatchesSimd(int m, int n, int k)
    {
        var x = Random(m * k, 1);
        var w = Random(n * k, 2);                  // HF Linear [out, in]
        var bias = Random(n, 3);
        var residual = Random(m * n, 4);
        var expected = new float[m * n];
        Gemm.MatMul(x, k, PackedMatrix.FromTransposed(w, n, k), expected, n, m,
            new GemmEpilogue { Bias = bias, Activation = GemmActivation.Gelu, Residual = residual, ResidualStride = n });

        var actual = simulator.Backend.GemmOnHost(x, w, bias, residual, new GemmArgs
        {
            M = m, N = n, K = k, Lda = k, Ldb = k, Ldc = n, Ldr = n, TransposeB = 1, Alpha = 1f, Activation = (int)GemmActivation.Gelu,
        }, 1, m * n);

        Compare.AllClose($"gemm {m}x{n}x{k}", expected, actual, [m, n], new Tolerance(2e-6, 2e-6));
    }

    [Theory]
    [InlineData(5, 7, 9, 3)]
    [InlineData(17, 33, 29, 2)]
    public void Gemm_BatchedNN_MatchesSimd(int m, int n, int k, int batch)
    {
        var a = Random(batch * m * k, 5);
        var b = Random(batch * k * n, 6);
        var expected = new float[batch * m * n];
        for (int z = 0; z < batch; z++)
            Gemm.MatMulNN(a.AsSpan(z * m * k), k, b.AsSpan(z * k * n), n, expected.AsSpan(z * m * n), n, m, n, k, parallel: false);

        var actual = simulator.Backend.GemmOnHost(a, b, null, null, new GemmArgs
        {
            M = m, N = n, K = k, Lda = k, Ldb = n, Ldc = n, TransposeB = 0, Alpha = 1f,
            BatchStrideA = m * k, BatchStrideB = k * n, BatchStrideC = m * n,
        }, batch, batch * m * n);

        Compare.AllClose($"batched gemm {batch}x{m}x{n}x{k}", expected, actual, [batch, m, n], new Tolerance(2e-6, 2e-6));
    }

    [Fact]
    public void Gemm_ScaledNT_MatchesSimd()
    {
        int m = 17, n = 13, k = 8;
        var q = Random(m * k, 7);
        var key = Random(n * k, 8);
        var expected = new float[m * n];
        Gemm.MatMulPacked(q, k, PackedKeys(key, n, k), n, k, expected, n, m, new GemmEpilogue { Alpha = 0.25f }, parallel: false);

        var actual = simulator.Backend.GemmOnHost(q, key, null, null, new GemmArgs
        {
            M = m, N = n, K = k, Lda = k, Ldb = k, Ldc = n, TransposeB = 1, Alpha = 0.25f,
        }, 1, m * n);

        Compare.AllClose("scores gemm", expected, actual, [m, n], new Tolerance(1e-6, 1e-6));
    }

    static float[] PackedKeys(float[] key, int n, int k)
    {
        var packed = new float[Gemm.PackedSize(n, k)];
        Gemm.PackTransposed(key, k, n, k, packed);
        return packed;
    }

    [Theory]
    [InlineData(5, 33)]
    [InlineData(3, 7)]
    public void LayerNorm_OddWidth_MatchesSimd(int rows, int d)
    {
        var x = Random(rows * d, 9, 3f);
        for (int i = 0; i < d; i++) x[i] += 1000f;     // a row with a large mean: the float64 statistics keep its digits
        var gamma = Random(d, 10);
        var beta = Random(d, 11);
        var expected = new float[rows * d];
        LayerNorm.Forward(x, gamma, beta, 1e-12f, expected, rows, d);

        var actual = simulator.Backend.LayerNormOnHost(x, gamma, beta, rows, d, 1e-12f);

        Compare.AllClose($"layernorm {rows}x{d}", expected, actual, [rows, d], new Tolerance(1e-6, 1e-6));
    }

    [Fact]
    public void Softmax_PaddedAndMaskedRows_MatchesSimdAndZerosTheRest()
    {
        // two texts of 5 and 3 tokens, 2 heads, padded to N = 5; text 1's query row 0 fully masked
        int heads = 2, N = 5;
        int[] lengths = [5, 3];
        var scores = Random(2 * heads * N * N, 12, 4f);
        for (int j = 0; j < 3; j++) scores[(1 * heads + 0) * N * N + j] = float.NegativeInfinity;
        scores[3] = float.NegativeInfinity;     // one masked key in text 0, head 0, row 0

        var actual = simulator.Backend.SoftmaxOnHost(scores, lengths, heads, N);

        for (int b = 0; b < 2; b++)
            for (int h = 0; h < heads; h++)
            {
                int n = lengths[b];
                var block = new float[n * n];
                for (int i = 0; i < n; i++) Array.Copy(scores, ((b * heads + h) * N + i) * N, block, i * n, n);
                Softmax.Rows(block, n, n);
                for (int i = 0; i < N; i++)
                    for (int j = 0; j < N; j++)
                    {
                        float got = actual[((b * heads + h) * N + i) * N + j];
                        float want = i < n && j < n ? block[i * n + j] : 0f;
                        Assert.True(Math.Abs(got - want) <= 3e-7, $"text {b} head {h} [{i},{j}]: expected {want}, got {got}");
                    }
            }
        Assert.All(actual.AsSpan((1 * heads + 0) * N * N, 3).ToArray(), p => Assert.Equal(0f, p));
    }

    [Fact]
    public void DeviceMath_GeluAndErf_SameAsSimdKernels()
    {
        var x = Random(4001, 13, 8f);
        x[0] = 0f; x[1] = -6f; x[2] = 6f; x[3] = 3.9f;
        var expected = (float[])x.Clone();
        Activations.ReferenceGelu(expected);
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(expected[i], DeviceMath.Gelu(x[i]));
            Assert.Equal(Activations.Erf((double)x[i]), DeviceMath.Erf(x[i]));
        }
    }

    [Fact]
    public void DeviceMath_Exp_MatchesMathExpToFloat64Rounding()
    {
        double worst = 0;
        for (double x = -708; x <= 709; x += 0.37)
        {
            double want = Math.Exp(x), got = DeviceMath.Exp(x);
            if (want == 0) { Assert.True(got < 1e-320, $"exp({x}) = {got}"); continue; }
            worst = Math.Max(worst, Math.Abs(got - want) / want);
        }
        Assert.True(worst < 1e-15, $"max relative error {worst:G3}");
        Assert.Equal(1.0, DeviceMath.Exp(0));
        Assert.Equal(double.PositiveInfinity, DeviceMath.Exp(710));
        Assert.Equal(0.0, DeviceMath.Exp(-800));
        Assert.True(double.IsNaN(DeviceMath.Exp(double.NaN)));
    }
}
