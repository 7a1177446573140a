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
