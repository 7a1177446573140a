using MixLens.Kernels;

namespace MixLens.Bench;

/// <summary>The GEMMs the quick bench times: the packed GEMM with its bias epilogue, and the unpacked MatMulNT.</summary>
static class GemmUnderTest
{
    public static IEnumerable<(string Name, Action<float[], float[], int, int> Run)> Variants(float[] w, float[] bias, int n, int k)
    {
        var packed = PackedMatrix.FromTransposed(w, n, k);
        yield return ("MatMul (packed W, bias epilogue)", (a, c, m, threads) =>
        {
            Parallelism.MaxThreads = threads;
            Gemm.MatMul(a, k, packed, c, n, m, new GemmEpilogue { Bias = bias });
        });
        yield return ("MatMulNT (unpacked)", (a, c, m, threads) =>
        {
            Parallelism.MaxThreads = threads;
            Gemm.MatMulNT(a, k, w, k, c, n, m, n, k, bias);
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
