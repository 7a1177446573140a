using MixLens.Bench.Kernels;
using MixLens.Kernels;

namespace MixLens.Bench;

/// <summary>The GEMMs the quick bench times on one <see cref="LinearUnderTest"/>: its packed GEMM with the bias
/// epilogue, and the unpacked MatMulNT on the same W and b.</summary>
static class GemmUnderTest
{
    public static IEnumerable<(string Name, Action<float[], float[], int, int> Run)> Variants(LinearUnderTest linear)
    {
        int n = linear.N, k = linear.K;
        yield return ("MatMul (packed W, bias epilogue)", (a, c, m, threads) =>
        {
            Parallelism.MaxThreads = threads;
            linear.Forward(a, m, c, parallel: true);
        });
        yield return ("MatMulNT (unpacked)", (a, c, m, threads) =>
        {
            Parallelism.MaxThreads = threads;
            Gemm.MatMulNT(a, k, linear.Weight, k, c, n, m, n, k, linear.Bias);
        });
        Parallelism.MaxThreads = 0;
    }

    /// <summary>Sets <see cref="Parallelism.MaxThreads"/> until disposed.</summary>
    public static IDisposable Threads(int threads) => new Scope(threads);

    sealed class Scope : IDisposable
    {
        public Scope(int threads) => Parallelism.MaxThreads = threads;
        public void Dispose() => Parallelism.MaxThreads = 0;
    }
}
