using BenchmarkDotNet.Attributes;
using MixLens.Kernels;

namespace MixLens.Bench.Kernels;

/// <summary>
/// <see cref="Gemm.MatMulNT"/> on the MiniLM-L6/L12 (d_model 384, d_ff 1536) Linear shapes for a batch of 128 tokens:
/// C[M, N] = X[M, K] · W[N, K]ᵀ + b.
/// <code>
///   384×384    Q, K, V and attention-output projections
///   1536×384   FFN up-projection   (N = d_ff)
///   384×1536   FFN down-projection (K = d_ff)
/// </code>
/// Throughput: GFLOP/s = 2·M·N·K / (Mean in ns); e.g. 128×384×384 is 37.7 MFLOP, so a 400 µs mean is 94 GFLOP/s, and
/// the two FFN shapes are 151 MFLOP each. <c>Parallel = false</c> is one thread; <c>true</c> uses the thread pool.
/// Run: <c>dotnet run -c Release --project bench -- --filter '*GemmBenchmarks*'</c>.
/// </summary>
public class GemmBenchmarks
{
    const int M = 128;

    [Params("384x384", "1536x384", "384x1536")]
    public string NxK { get; set; } = "384x384";

    [Params(false, true)]
    public bool Parallel { get; set; }

    int n, k;
    float[] a = [], w = [], bias = [], c = [];

    [GlobalSetup]
    public void Setup()
    {
        var parts = NxK.Split('x');
        (n, k) = (int.Parse(parts[0]), int.Parse(parts[1]));
        var rnd = new Random(42);
        a = Enumerable.Range(0, M * k).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray();
        w = Enumerable.Range(0, n * k).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray();
        bias = Enumerable.Range(0, n).Select(_ => (float)rnd.NextDouble() - 0.5f).ToArray();
        c = new float[M * n];
        // the vector path is chosen at run time (Vector512.IsHardwareAccelerated can be false on AVX-512 hardware)
        Console.WriteLine($"// MixLens.Kernels vector path: {VectorPaths.Active}, {Environment.ProcessorCount} logical cores");
    }

    [Benchmark]
    public void MatMulNT() => Gemm.MatMulNT(a, k, w, k, c, n, M, n, k, bias, Parallel);
}
