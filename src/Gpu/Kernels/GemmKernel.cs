using ILGPU;
using ILGPU.Runtime;

namespace MixLens.Gpu.Kernels;

/// <summary>The shape and write-back of one (batched) GEMM launch: C[z] = act(α·A[z]·op(B[z]) + bias) + R.</summary>
public struct GemmArgs
{
    /// <summary>C is [M, N]; the sum runs over K.</summary>
    public int M, N, K;
    /// <summary>Row strides (leading dimensions) of A [M, K], B ([N, K] when <see cref="TransposeB"/>, else [K, N]), C and R.</summary>
    public int Lda, Ldb, Ldc, Ldr;
    /// <summary>Element offsets between the matrices of consecutive batch entries (grid z).</summary>
    public long BatchStrideA, BatchStrideB, BatchStrideC;
    /// <summary>1: B is stored [N, K] (an HF Linear weight [out, in], or K of the attention scores), used as Bᵀ.</summary>
    public int TransposeB;
    public float Alpha;
    /// <summary>A <see cref="MixLens.Kernels.GemmActivation"/> code (<see cref="DeviceMath.Activate"/>).</summary>
    public int Activation;
    public int HasBias, HasResidual;
}

/// <summary>
/// Tiled SGEMM with the epilogue of <see cref="MixLens.Kernels.GemmEpilogue"/> (α, bias, activation, residual, in that
/// order, each step rounded to float32) fused into the write-back.
/// </summary>
/// <remarks>
/// A group of s×s threads computes a tile of 4s×4s outputs; each thread keeps a 4×4 block of accumulators in
/// registers, its rows ty + a·s and columns tx + b·s (strided, so that neighbouring threads read neighbouring shared
/// memory words and write neighbouring columns of C). K advances in chunks of k_tile: the group stages the A chunk
/// [4s, k_tile] and the B chunk [k_tile, 4s] in dynamic shared memory (both stored k-major), then every thread does
/// 16 multiply-adds per k. s and k_tile are chosen at run time from the accelerator (<see cref="KernelGeometry"/>):
/// s = 16, k_tile = 16 on a GPU (256 threads, 64×64 tiles); s = 2, k_tile = 4 on ILGPU's CPU accelerator. Grid:
/// (⌈N/4s⌉, ⌈M/4s⌉, batch). Accumulation is in float32 in k order within a thread, so results differ from the SIMD
/// GEMM by float32 rounding only.
/// </remarks>
public static class GemmKernel
{
    /// <summary>Accumulators per thread along each side.</summary>
    public const int Micro = 4;

    public static void Kernel(ArrayView<float> a, ArrayView<float> b, ArrayView<float> c, ArrayView<float> bias,
        ArrayView<float> residual, GemmArgs p, int kTile)
    {
        int s = Group.DimX, tile = s * Micro, tk = kTile;
        var shared = SharedMemory.GetDynamic<float>();           // A chunk [tk, tile], then B chunk [tk, tile]
        int tx = Group.IdxX, ty = Group.IdxY, tid = ty * s + tx, threads = s * s;
        int m0 = Grid.IdxY * tile, n0 = Grid.IdxX * tile;
        long z = Grid.IdxZ;
        long aOff = z * p.BatchStrideA, bOff = z * p.BatchStrideB, cOff = z * p.BatchStrideC;
        int bBase = tile * tk;

        float c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
        float c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
        for (int k0 = 0; k0 < p.K; k0 += tk)
        {
            // stage A[m0.., k0..] → shared[kk·tile + r]; consecutive threads read consecutive k of a row
            for (int e = tid; e < tile * tk; e += threads)
            {
                int r = e / tk, kk = e - r * tk, gm = m0 + r, gk = k0 + kk;
                shared[kk * tile + r] = gm < p.M && gk < p.K ? a[aOff + (long)gm * p.Lda + gk] : 0f;
            }
            // stage B[k0.., n0..] → shared[bBase + kk·tile + col]
            for (int e = tid; e < tile * tk; e += threads)
            {
                int col, kk;
                if (p.TransposeB != 0) { col = e / tk; kk = e - col * tk; }
                else { kk = e / tile; col = e - kk * tile; }
                int gn = n0 + col, gk = k0 + kk;
                float v = 0f;
                if (gn < p.N && gk < p.K)
                    v = p.TransposeB != 0 ? b[bOff + (long)gn * p.Ldb + gk] : b[bOff + (long)gk * p.Ldb + gn];
                shared[bBase + kk * tile + col] = v;
            }
            Group.Barrier();

            for (int kk = 0; kk < tk; kk++)
            {
                int ar = kk * tile + ty, bc = bBase + kk * tile + tx;
                float a0 = shared[ar], a1 = shared[ar + s], a2 = shared[ar + 2 * s], a3 = shared[ar + 3 * s];
                float b0 = shared[bc], b1 = shared[bc + s], b2 = shared[bc + 2 * s], b3 = shared[bc + 3 * s];
                c00 += a0 * b0; c01 += a0 * b1; c02 += a0 * b2; c03 += a0 * b3;
                c10 += a1 * b0; c11 += a1 * b1; c12 += a1 * b2; c13 += a1 * b3;
                c20 += a2 * b0; c21 += a2 * b1; c22 += a2 * b2; c23 += a2 * b3;
                c30 += a3 * b0; c31 += a3 * b1; c32 += a3 * b2; c33 += a3 * b3;
            }
            Group.Barrier();
        }

        int row = m0 + ty, col0 = n0 + tx;
        WriteRow(c, bias, residual, p, cOff, row, col0, s, c00, c01, c02, c03);
        WriteRow(c, bias, residual, p, cOff, row + s, col0, s, c10, c11, c12, c13);
        WriteRow(c, bias, residual, p, cOff, row + 2 * s, col0, s, c20, c21, c22, c23);
        WriteRow(c, bias, residual, p, cOff, row + 3 * s, col0, s, c30, c31, c32, c33);
    }

    static void WriteRow(ArrayView<float> c, ArrayView<float> bias, ArrayView<float> residual, GemmArgs p, long cOff,
        int row, int col0, int s, float v0, float v1, float v2, float v3)
    {
        if (row >= p.M) return;
        Write(c, bias, residual, p, cOff, row, col0, v0);
        Write(c, bias, residual, p, cOff, row, col0 + s, v1);
        Write(c, bias, residual, p, cOff, row, col0 + 2 * s, v2);
        Write(c, bias, residual, p, cOff, row, col0 + 3 * s, v3);
    }

    /// <summary>C[row, col] = act(α·acc + bias[col]) + R[row, col].</summary>
    static void Write(ArrayView<float> c, ArrayView<float> bias, ArrayView<float> residual, GemmArgs p, long cOff,
        int row, int col, float acc)
    {
        if (col >= p.N) return;
        float v = p.Alpha * acc;
        if (p.HasBias != 0) v += bias[col];
        v = DeviceMath.Activate(v, p.Activation);
        if (p.HasResidual != 0) v += residual[(long)row * p.Ldr + col];
        c[cOff + (long)row * p.Ldc + col] = v;
    }
}
