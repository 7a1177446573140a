using ILGPU;
using ILGPU.Runtime;
using MixLens.Gpu.Kernels;

namespace MixLens.Gpu;

public sealed partial class GpuEncoderBackend
{
    // Single launches on host arrays, for the tests that check each kernel against the SIMD kernels.

    /// <summary>One <see cref="GemmKernel"/> launch: returns C (<paramref name="cLength"/> values) for host A, B.</summary>
    internal float[] GemmOnHost(float[] a, float[] b, float[]? bias, float[]? residual, GemmArgs p, int batch, int cLength)
    {
        lock (_gate)
        {
            var c = _buffers.Get<float>("test.c", cLength);
            Gemm(_buffers.Upload<float>("test.a", a), _buffers.Upload<float>("test.b", b), c,
                bias is null ? null : _buffers.Upload<float>("test.bias", bias),
                residual is null ? null : _buffers.Upload<float>("test.residual", residual), p, batch);
            return Download(c, cLength);
        }
    }

    /// <summary>One <see cref="RowKernels.LayerNorm"/> launch over x [rows, d].</summary>
    internal float[] LayerNormOnHost(float[] x, float[] gamma, float[] beta, int rows, int d, float eps)
    {
        lock (_gate)
        {
            var y = _buffers.Get<float>("test.y", (long)rows * d);
            LayerNorm(_buffers.Upload<float>("test.x", x), _buffers.Upload<float>("test.gamma", gamma),
                _buffers.Upload<float>("test.beta", beta), y, rows, d, eps);
            return Download(y, rows * d);
        }
    }

    /// <summary>One <see cref="RowKernels.Softmax"/> launch over S [B·H, N, N].</summary>
    internal float[] SoftmaxOnHost(float[] scores, int[] lengths, int heads, int maxLength)
    {
        lock (_gate)
        {
            var s = _buffers.Upload<float>("test.scores", scores);
            _softmax(new KernelConfig(scores.Length / maxLength, Geometry.RowGroup), s, _buffers.Upload<int>("test.lengths", lengths), heads, maxLength);
            return Download(s, scores.Length);
        }
    }

    float[] Download(ArrayView<float> view, int length)
    {
        var host = new float[length];
        _accelerator.Synchronize();
        view.SubView(0, length).CopyToCPU(host.AsSpan());
        return host;
    }
}

public sealed partial class GpuEncoderBackend
{
    /// <summary>
    /// Times the GEMM kernel alone on device-resident random operands (C [m, n] = A [m, k] · Bᵀ, B [n, k], no epilogue):
    /// the median of <paramref name="repeats"/> launches after one warm-up, in milliseconds (bench/gpu-check.sh).
    /// </summary>
    internal double TimeGemm(int m, int n, int k, int repeats)
    {
        lock (_gate)
        {
            var rng = new Random(3);
            var a = _buffers.Upload<float>("bench.a", Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble()).ToArray());
            var b = _buffers.Upload<float>("bench.b", Enumerable.Range(0, n * k).Select(_ => (float)rng.NextDouble()).ToArray());
            var c = _buffers.Get<float>("bench.c", (long)m * n);
            var p = new GemmArgs { M = m, N = n, K = k, Lda = k, Ldb = k, Ldc = n, TransposeB = 1, Alpha = 1f };
            Gemm(a, b, c, null, null, p);
            _accelerator.Synchronize();
            var ms = new double[repeats];
            for (int r = 0; r < repeats; r++)
            {
                var sw = System.Diagnostics.Stopwatch.StartNew();
                Gemm(a, b, c, null, null, p);
                _accelerator.Synchronize();
                ms[r] = sw.Elapsed.TotalMilliseconds;
            }
            Array.Sort(ms);
            return ms[repeats / 2];
        }
    }
}
