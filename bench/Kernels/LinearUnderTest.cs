using MixLens.Kernels;

namespace MixLens.Bench.Kernels;

/// <summary>
/// The one place where the GEMM suite calls MixLens's GEMM: a Linear layer y[M, N] = x[M, K] · Wᵀ + b with W [N, K]
/// (a checkpoint's <c>weight [out, in]</c>), exactly as the encoder runs it: W packed once into panels in the
/// constructor (<see cref="PackedMatrix.FromTransposed"/>, as at model load), then <see cref="Gemm.MatMul"/> with the
/// bias fused into the write-back.
/// </summary>
public sealed class LinearUnderTest
{
    readonly PackedMatrix _weight; // W [N, K], packed
    readonly float[] _bias;        // [N]

    public int N { get; }
    public int K { get; }

    public LinearUnderTest(float[] weight, float[] bias, int n, int k)
    {
        if (weight.Length != n * k) throw new ArgumentException($"weight has {weight.Length} floats, expected N·K = {n * k}");
        if (bias.Length != n) throw new ArgumentException($"bias has {bias.Length} floats, expected N = {n}");
        (_weight, _bias, N, K) = (PackedMatrix.FromTransposed(weight, n, k), bias, n, k);
    }

    /// <summary>y[m, N] = x[m, K] · Wᵀ + b; <paramref name="parallel"/> false keeps the call on the calling thread.</summary>
    public void Forward(ReadOnlySpan<float> x, int m, Span<float> y, bool parallel)
        => Gemm.MatMul(x, K, _weight, y, N, m, new GemmEpilogue { Bias = _bias }, parallel);
}
