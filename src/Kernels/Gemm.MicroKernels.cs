using System.Runtime.Intrinsics;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

public static unsafe partial class Gemm
{
    /// <summary>
    /// Register-blocked micro-kernels, generic over the vector width (<see cref="Simd512"/>, <see cref="Simd256"/>,
    /// <see cref="Simd128"/>; the JIT specialises each). Kernel geometry:
    /// <list type="bullet">
    /// <item>NT (dot-product form): <c>NtRows</c> rows of A × 4 rows of B, one vector accumulator per C element, FMA over
    /// K in steps of one vector, reduced at the end by <c>Sum4</c> into a Vector128 per row of C (4 adjacent columns).
    /// AVX-512 runs 4×4 (16 accumulators of its 32 registers); AVX2/SSE/NEON run 2×4 (8 of 16). K % width is
    /// finished in scalar code on the reduced Vector128, which is then stored to C with the bias added, or added to C
    /// (<c>accumulate</c>, for K blocks after the first).</item>
    /// <item>NN (outer-product form): 4 rows of C × 2 vectors of columns, 8 accumulators; per step p, two vectors of
    /// row p of B times A[i,p] broadcast. Edge kernels handle 1 row and/or 1 vector; leftover columns are scalar.</item>
    /// </list>
    /// </summary>
    internal static class MicroKernels
    {
        // ---- NT: C[i, j..j+3] = A[i,:] · B[j..j+3,:]ᵀ (+ bias[j..j+3]) --------------------------------------------------

        public static void Nt4x4<TV, TOps>(float* a, nint lda, float* b, nint ldb, float* c, nint ldc, int k, float* bias, bool accumulate)
            where TV : struct where TOps : struct, ISimdOps<TV>
        {
            float* a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
            float* b0 = b, b1 = b + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            TV c00 = TOps.Zero, c01 = TOps.Zero, c02 = TOps.Zero, c03 = TOps.Zero;
            TV c10 = TOps.Zero, c11 = TOps.Zero, c12 = TOps.Zero, c13 = TOps.Zero;
            TV c20 = TOps.Zero, c21 = TOps.Zero, c22 = TOps.Zero, c23 = TOps.Zero;
            TV c30 = TOps.Zero, c31 = TOps.Zero, c32 = TOps.Zero, c33 = TOps.Zero;
            int w = TOps.Count, p = 0;
            for (; p <= k - w; p += w)
            {
                TV vb0 = TOps.Load(b0 + p), vb1 = TOps.Load(b1 + p), vb2 = TOps.Load(b2 + p), vb3 = TOps.Load(b3 + p);
                TV va = TOps.Load(a0 + p);
                c00 = TOps.MultiplyAdd(va, vb0, c00); c01 = TOps.MultiplyAdd(va, vb1, c01);
                c02 = TOps.MultiplyAdd(va, vb2, c02); c03 = TOps.MultiplyAdd(va, vb3, c03);
                va = TOps.Load(a1 + p);
                c10 = TOps.MultiplyAdd(va, vb0, c10); c11 = TOps.MultiplyAdd(va, vb1, c11);
                c12 = TOps.MultiplyAdd(va, vb2, c12); c13 = TOps.MultiplyAdd(va, vb3, c13);
                va = TOps.Load(a2 + p);
                c20 = TOps.MultiplyAdd(va, vb0, c20); c21 = TOps.MultiplyAdd(va, vb1, c21);
                c22 = TOps.MultiplyAdd(va, vb2, c22); c23 = TOps.MultiplyAdd(va, vb3, c23);
                va = TOps.Load(a3 + p);
                c30 = TOps.MultiplyAdd(va, vb0, c30); c31 = TOps.MultiplyAdd(va, vb1, c31);
                c32 = TOps.MultiplyAdd(va, vb2, c32); c33 = TOps.MultiplyAdd(va, vb3, c33);
            }
            Vector128<float> r0 = TOps.Sum4(c00, c01, c02, c03), r1 = TOps.Sum4(c10, c11, c12, c13);
            Vector128<float> r2 = TOps.Sum4(c20, c21, c22, c23), r3 = TOps.Sum4(c30, c31, c32, c33);
            for (; p < k; p++)
            {
                var vb = Vector128.Create(b0[p], b1[p], b2[p], b3[p]);
                r0 += vb * a0[p]; r1 += vb * a1[p]; r2 += vb * a2[p]; r3 += vb * a3[p];
            }
            if (accumulate)
            {
                r0 += Vector128.Load(c); r1 += Vector128.Load(c + ldc); r2 += Vector128.Load(c + 2 * ldc); r3 += Vector128.Load(c + 3 * ldc);
            }
            else if (bias != null)
            {
                var vbias = Vector128.Load(bias);
                r0 += vbias; r1 += vbias; r2 += vbias; r3 += vbias;
            }
            r0.Store(c); r1.Store(c + ldc); r2.Store(c + 2 * ldc); r3.Store(c + 3 * ldc);
        }

        public static void Nt2x4<TV, TOps>(float* a, nint lda, float* b, nint ldb, float* c, nint ldc, int k, float* bias, bool accumulate)
            where TV : struct where TOps : struct, ISimdOps<TV>
        {
            float* a0 = a, a1 = a + lda;
            float* b0 = b, b1 = b + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            TV c00 = TOps.Zero, c01 = TOps.Zero, c02 = TOps.Zero, c03 = TOps.Zero;
            TV c10 = TOps.Zero, c11 = TOps.Zero, c12 = TOps.Zero, c13 = TOps.Zero;
            int w = TOps.Count, p = 0;
            for (; p <= k - w; p += w)
            {
                TV va0 = TOps.Load(a0 + p), va1 = TOps.Load(a1 + p);
                TV vb = TOps.Load(b0 + p);
                c00 = TOps.MultiplyAdd(va0, vb, c00); c10 = TOps.MultiplyAdd(va1, vb, c10);
                vb = TOps.Load(b1 + p);
                c01 = TOps.MultiplyAdd(va0, vb, c01); c11 = TOps.MultiplyAdd(va1, vb, c11);
                vb = TOps.Load(b2 + p);
                c02 = TOps.MultiplyAdd(va0, vb, c02); c12 = TOps.MultiplyAdd(va1, vb, c12);
                vb = TOps.Load(b3 + p);
                c03 = TOps.MultiplyAdd(va0, vb, c03); c13 = TOps.MultiplyAdd(va1, vb, c13);
            }
            Vector128<float> r0 = TOps.Sum4(c00, c01, c02, c03), r1 = TOps.Sum4(c10, c11, c12, c13);
            for (; p < k; p++)
            {
                var vb = Vector128.Create(b0[p], b1[p], b2[p], b3[p]);
                r0 += vb * a0[p]; r1 += vb * a1[p];
            }
            if (accumulate)
            {
                r0 += Vector128.Load(c); r1 += Vector128.Load(c + ldc);
            }
            else if (bias != null)
            {
                var vbias = Vector128.Load(bias);
                r0 += vbias; r1 += vbias;
            }
            r0.Store(c); r1.Store(c + ldc);
        }

        public static void Nt1x4<TV, TOps>(float* a, float* b, nint ldb, float* c, int k, float* bias, bool accumulate)
            where TV : struct where TOps : struct, ISimdOps<TV>
        {
            float* b0 = b, b1 = b + ldb, b2 = b1 + ldb, b3 = b2 + ldb;
            TV c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero;
            int w = TOps.Count, p = 0;
            for (; p <= k - w; p += w)
            {
                TV va = TOps.Load(a + p);
                c0 = TOps.MultiplyAdd(va, TOps.Load(b0 + p), c0);
                c1 = TOps.MultiplyAdd(va, TOps.Load(b1 + p), c1);
                c2 = TOps.MultiplyAdd(va, TOps.Load(b2 + p), c2);
                c3 = TOps.MultiplyAdd(va, TOps.Load(b3 + p), c3);
            }
            Vector128<float> r = TOps.Sum4(c0, c1, c2, c3);
            for (; p < k; p++) r += Vector128.Create(b0[p], b1[p], b2[p], b3[p]) * a[p];
            if (accumulate) r += Vector128.Load(c);
            else if (bias != null) r += Vector128.Load(bias);
            r.Store(c);
        }

        /// <summary>Σ_p x[p]·y[p] over k elements, two vector accumulators, scalar tail.</summary>
        public static float Dot<TV, TOps>(float* x, float* y, int k) where TV : struct where TOps : struct, ISimdOps<TV>
        {
            TV s0 = TOps.Zero, s1 = TOps.Zero;
            int w = TOps.Count, p = 0;
            for (; p <= k - 2 * w; p += 2 * w)
            {
                s0 = TOps.MultiplyAdd(TOps.Load(x + p), TOps.Load(y + p), s0);
                s1 = TOps.MultiplyAdd(TOps.Load(x + p + w), TOps.Load(y + p + w), s1);
            }
            if (p <= k - w)
            {
                s0 = TOps.MultiplyAdd(TOps.Load(x + p), TOps.Load(y + p), s0);
                p += w;
            }
            float sum = TOps.Sum(TOps.Add(s0, s1));
            for (; p < k; p++) sum += x[p] * y[p];
            return sum;
        }

        /// <summary>Scalar dot product with four independent partial sums (the no-SIMD path).</summary>
        public static float DotScalar(float* x, float* y, int k)
        {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            int p = 0;
            for (; p <= k - 4; p += 4)
            {
                s0 += x[p] * y[p]; s1 += x[p + 1] * y[p + 1];
                s2 += x[p + 2] * y[p + 2]; s3 += x[p + 3] * y[p + 3];
            }
            for (; p < k; p++) s0 += x[p] * y[p];
            return (s0 + s1) + (s2 + s3);
        }

        // ---- NN: C[i.., j..] = Σ_p A[i..,p] · B[p, j..] -------------------------------------------------------------------

        public static void Nn4x2<TV, TOps>(float* a, nint lda, float* b, nint ldb, float* c, nint ldc, int k)
            where TV : struct where TOps : struct, ISimdOps<TV>
        {
            float* a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
            int w = TOps.Count;
            TV c00 = TOps.Zero, c01 = TOps.Zero, c10 = TOps.Zero, c11 = TOps.Zero;
            TV c20 = TOps.Zero, c21 = TOps.Zero, c30 = TOps.Zero, c31 = TOps.Zero;
            float* bp = b;
            for (int p = 0; p < k; p++, bp += ldb)
            {
                TV vb0 = TOps.Load(bp), vb1 = TOps.Load(bp + w);
                TV va = TOps.Create(a0[p]);
                c00 = TOps.MultiplyAdd(va, vb0, c00); c01 = TOps.MultiplyAdd(va, vb1, c01);
                va = TOps.Create(a1[p]);
                c10 = TOps.MultiplyAdd(va, vb0, c10); c11 = TOps.MultiplyAdd(va, vb1, c11);
                va = TOps.Create(a2[p]);
                c20 = TOps.MultiplyAdd(va, vb0, c20); c21 = TOps.MultiplyAdd(va, vb1, c21);
                va = TOps.Create(a3[p]);
                c30 = TOps.MultiplyAdd(va, vb0, c30); c31 = TOps.MultiplyAdd(va, vb1, c31);
            }
            TOps.Store(c, c00); TOps.Store(c + w, c01); c += ldc;
            TOps.Store(c, c10); TOps.Store(c + w, c11); c += ldc;
            TOps.Store(c, c20); TOps.Store(c + w, c21); c += ldc;
            TOps.Store(c, c30); TOps.Store(c + w, c31);
        }

        public static void Nn1x2<TV, TOps>(float* a, float* b, nint ldb, float* c, int k)
            where TV : struct where TOps : struct, ISimdOps<TV>
        {
            int w = TOps.Count;
            TV c0 = TOps.Zero, c1 = TOps.Zero;
            float* bp = b;
            for (int p = 0; p < k; p++, bp += ldb)
            {
                TV va = TOps.Create(a[p]);
                c0 = TOps.MultiplyAdd(va, TOps.Load(bp), c0);
                c1 = TOps.MultiplyAdd(va, TOps.Load(bp + w), c1);
            }
            TOps.Store(c, c0); TOps.Store(c + w, c1);
        }

        public static void Nn4x1<TV, TOps>(float* a, nint lda, float* b, nint ldb, float* c, nint ldc, int k)
            where TV : struct where TOps : struct, ISimdOps<TV>
        {
            float* a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
            TV c0 = TOps.Zero, c1 = TOps.Zero, c2 = TOps.Zero, c3 = TOps.Zero;
            float* bp = b;
            for (int p = 0; p < k; p++, bp += ldb)
            {
                TV vb = TOps.Load(bp);
                c0 = TOps.MultiplyAdd(TOps.Create(a0[p]), vb, c0);
                c1 = TOps.MultiplyAdd(TOps.Create(a1[p]), vb, c1);
                c2 = TOps.MultiplyAdd(TOps.Create(a2[p]), vb, c2);
                c3 = TOps.MultiplyAdd(TOps.Create(a3[p]), vb, c3);
            }
            TOps.Store(c, c0); TOps.Store(c + ldc, c1); TOps.Store(c + 2 * ldc, c2); TOps.Store(c + 3 * ldc, c3);
        }

        public static void Nn1x1<TV, TOps>(float* a, float* b, nint ldb, float* c, int k)
            where TV : struct where TOps : struct, ISimdOps<TV>
        {
            TV c0 = TOps.Zero;
            float* bp = b;
            for (int p = 0; p < k; p++, bp += ldb) c0 = TOps.MultiplyAdd(TOps.Create(a[p]), TOps.Load(bp), c0);
            TOps.Store(c, c0);
        }

        /// <summary>Scalar NN over rows [i0, i1) and columns [j0, j1): row i of C accumulated as Σ_p A[i,p]·B[p, j0..j1).</summary>
        public static void NnScalar(float* a, nint lda, float* b, nint ldb, float* c, nint ldc, int i0, int i1, int j0, int j1, int k)
        {
            for (int i = i0; i < i1; i++)
            {
                float* ci = c + i * ldc, ai = a + i * lda;
                for (int j = j0; j < j1; j++) ci[j] = 0;
                float* bp = b;
                for (int p = 0; p < k; p++, bp += ldb)
                {
                    float aip = ai[p];
                    for (int j = j0; j < j1; j++) ci[j] += aip * bp[j];
                }
            }
        }
    }
}
