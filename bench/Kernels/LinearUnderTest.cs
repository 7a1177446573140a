using MixLens.Kernels;

namespace MixLens.Bench.Kernels;

/// <summary>
/// The one place where the GEMM suite (and <c>quick gemm</c>) calls MixLens's packed GEMM: a Linear layer
/// y[M, N] = x[M, K] · Wᵀ + b with W [N, K] (a checkpoint's <c>weight [out, in]</c>), exactly as the encoder runs it:
/// W packed once into panels in the constructor (<see cref="PackedMatrix.FromTransposed"/>, as at model load), then
/// <see cref="Gemm.MatMul"/> with the bias fused into the write-back.
/// </summary>
public sealed class LinearUnderTest
{
    /// <summary>
    /// The encoder's Linear layers as K×N, in the order both runners report them:
    /// <code>
    ///   K×N          layer
    ///   384×384      MiniLM Q, K, V, attention output      768×768     BERT-base the same
    ///   384×1536     MiniLM FFN up (N = d_ff)               768×3072    BERT-base FFN up
    ///   1536×384     MiniLM FFN down (K = d_ff)             3072×768    BERT-base FFN down
    /// </code>
    /// </summary>
    public static readonly (string Model, int K, int N)[] EncoderShapes =
    [
        ("MiniLM", 384, 384), ("MiniLM", 384, 1536), ("MiniLM", 1536, 384),
        ("BERT-base", 768, 768), ("BERT-base", 768, 3072), ("BERT-base", 3072, 768),
    ];

    readonly PackedMatrix _weight; // W [N, K], packed

    public int N { get; }
    public int K { get; }
    /// <summary>W [N, K] as given (unpacked), for comparisons with the unpacked GEMM.</summary>
    public float[] Weight { get; }
    /// <summary>b [N].</summary>
    public float[] Bias { get; }

    public LinearUnderTest(float[] weight, float[] bias, int n, int k)
    {
        if (weight.Length != n * k) throw new ArgumentException($"weight has {weight.Length} floats, expected N·K = {n * k}");
        if (bias.Length != n) throw new ArgumentException($"bias has {bias.Length} floats, expected N = {n}");
        (_weight, Weight, Bias, N, K) = (PackedMatrix.FromTransposed(weight, n, k), weight, bias, n, k);
    }

    /// <summary>A Linear [N, K] with W and b from <see cref="RandomArray"/> (seeds 42 and 43).</summary>
    public static LinearUnderTest Random(int n, int k) => new(RandomArray(n * k, 42), RandomArray(n, 43), n, k);

    /// <summary><paramref name="length"/> floats uniform in [−0.5, 0.5) from <paramref name="seed"/>.</summary>
    public static float[] RandomArray(int length, int seed)
    {
        var rnd = new System.Random(seed);
        var a = new float[length];
        for (int i = 0; i < a.Length; i++) a[i] = (float)rnd.NextDouble() - 0.5f;
        return a;
    }

    /// <summary>y[m, N] = x[m, K] · Wᵀ + b; <paramref name="parallel"/> false keeps the call on the calling thread.</summary>
    public void Forward(ReadOnlySpan<float> x, int m, Span<float> y, bool parallel)
        => Gemm.MatMul(x, K, _weight, y, N, m, new GemmEpilogue { Bias = Bias }, parallel);
}
