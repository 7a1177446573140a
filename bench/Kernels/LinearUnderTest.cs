using MixLens.Kernels;

namespace MixLens.Bench.Kernels;

/// <summary>
/// The one place where the GEMM suite calls MixLens's GEMM: a Linear layer y[M, N] = x[M, K] · Wᵀ + b with W [N, K]
/// (a checkpoint's <c>weight [out, in]</c>). Today it calls <see cref="Gemm.MatMulNT"/> on W in place; when packed
/// weights land, pack W once in the constructor and call the packed entry point in <see cref="Forward"/> — nothing else
/// in bench/ needs to change.
/// </summary>
public sealed class LinearUnderTest
{
    readonly float[] _weight; // [N, K] row-major
    readonly float[] _bias;   // [N]

    public int N { get; }
    public int K { get; }

    public LinearUnderTest(float[] weight, float[] bias, int n, int k)
    {
        if (weight.Length != n * k) throw new ArgumentException($"weight has {weight.Length} floats, expected N·K = {n * k}");
        if (bias.Length != n) throw new ArgumentException($"bias has {bias.Length} floats, expected N = {n}");
        (_weight, _bias, N, K) = (weight, bias, n, k);
    }

    /// <summary>y[m, N] = x[m, K] · Wᵀ + b; <paramref name="parallel"/> false keeps the call on the calling thread.</summary>
    public void Forward(ReadOnlySpan<float> x, int m, Span<float> y, bool parallel)
        => Gemm.MatMulNT(x, K, _weight, K, y, N, m, N, K, _bias, parallel);
}
