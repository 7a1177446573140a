using BenchmarkDotNet.Attributes;
using MixLens.Kernels;

namespace MixLens.Bench.Kernels;

/// <summary>
/// y = x Wᵀ + b for a batch of M = 128 tokens on the MiniLM (d_model 384, d_ff 1536) and BERT-base (768, 3072) Linear
/// shapes: the packed GEMM (<see cref="Gemm.MatMul(ReadOnlySpan{float}, int, PackedMatrix, Span{float}, int, int, in GemmEpilogue, bool)"/>,
/// W packed once in setup, bias in the epilogue) and the unpacked <see cref="Gemm.MatMulNT"/>, on 1 thread and on all
/// cores (<see cref="Parallelism.MaxThreads"/>).
/// <code>
///   384×384, 768×768     Q, K, V and attention-output projections (N×K)
///   1536×384, 3072×768   FFN up-projection   (N = d_ff)
///   384×1536, 768×3072   FFN down-projection (K = d_ff)
/// </code>
/// Throughput: GFLOP/s = 2·M·N·K / (Mean in ns); e.g. 128×384×384 is 37.7 MFLOP, so a 350 µs mean is 108 GFLOP/s.
/// Run: <c>dotnet run -c Release --project bench -- --filter '*GemmBenchmarks*'</c>; the quicker Stopwatch version
/// is <c>-- quick gemm</c> (<see cref="QuickBench"/>).
/// </summary>
public class GemmBenchmarks
{
    const int M = 128;

    [Params("384x384", "1536x384", "384x1536", "768x768", "3072x768", "768x3072")]
    public string NxK { get; set; } = "384x384";

    /// <summary>1, or 0 for all cores.</summary>
    [Params(1, 0)]
    public int Threads { get; set; }

    int n, k;
    float[] a = [], w = [], bias = [], c = [];
    PackedMatrix packed = null!;

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
        packed = PackedMatrix.FromTransposed(w, n, k);
        Parallelism.MaxThreads = Threads;
        // the vector path is chosen at run time (Vector512.IsHardwareAccelerated can be false on AVX-512 hardware)
        Console.WriteLine($"// MixLens.Kernels vector path: {VectorPaths.Active}, {Parallelism.MaxThreads} of {Environment.ProcessorCount} cores");
    }

    [GlobalCleanup]
    public void Cleanup() => Parallelism.MaxThreads = 0;

    [Benchmark(Baseline = true)]
    public void MatMulPacked() => Gemm.MatMul(a, k, packed, c, n, M, new GemmEpilogue { Bias = bias });

    [Benchmark]
    public void MatMulNT() => Gemm.MatMulNT(a, k, w, k, c, n, M, n, k, bias);
}
