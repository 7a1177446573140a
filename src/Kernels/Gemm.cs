namespace MixLens.Kernels;

/// <summary>Single-precision matrix multiply (STUB: to be implemented).</summary>
public static unsafe class Gemm
{
    /// <summary>C[m,n] = A[m,k] · B[n,k]ᵀ (+ bias[n]); row-major with leading dimensions lda, ldb, ldc.</summary>
    public static void MatMulNT(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, ReadOnlySpan<float> bias = default, bool parallel = true) => throw new NotImplementedException();

    /// <summary>C[m,n] = A[m,k] · B[k,n]; row-major with leading dimensions.</summary>
    public static void MatMulNN(ReadOnlySpan<float> a, int lda, ReadOnlySpan<float> b, int ldb, Span<float> c, int ldc,
        int m, int n, int k, bool parallel = true) => throw new NotImplementedException();
}
