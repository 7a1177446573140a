using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace MixLens.Analysis.Numerics;

/// <summary>
/// Dot products of float32 vectors accumulated in float64 (each product widened before it is added), vectorised with
/// <see cref="Vector256{T}"/>. Used where a sum of many terms of mixed sign must keep its digits (perturbation sizes,
/// LayerNorm variance increments), at the speed of a vector loop rather than a scalar double one.
/// </summary>
public static class WideDot
{
    /// <summary>Σ_k a[k]·b[k] in float64.</summary>
    /// <exception cref="ArgumentException">the spans differ in length.</exception>
    public static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        if (a.Length != b.Length) throw new ArgumentException($"WideDot.Dot: lengths differ ({a.Length} and {b.Length})");
        int n = a.Length, k = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            ref float pa = ref MemoryMarshal.GetReference(a);
            ref float pb = ref MemoryMarshal.GetReference(b);
            var acc0 = Vector256<double>.Zero;
            var acc1 = Vector256<double>.Zero;
            for (; k <= n - 8; k += 8)
            {
                var va = Vector256.LoadUnsafe(ref Unsafe.Add(ref pa, k));
                var vb = Vector256.LoadUnsafe(ref Unsafe.Add(ref pb, k));
                var (aLo, aHi) = Vector256.Widen(va);
                var (bLo, bHi) = Vector256.Widen(vb);
                acc0 = Vector256.FusedMultiplyAdd(aLo, bLo, acc0);
                acc1 = Vector256.FusedMultiplyAdd(aHi, bHi, acc1);
            }
            sum = Vector256.Sum(acc0 + acc1);
        }
        for (; k < n; k++) sum += (double)a[k] * b[k];
        return sum;
    }

    /// <summary>Σ_k a[k]² in float64.</summary>
    public static double SumOfSquares(ReadOnlySpan<float> a) => Dot(a, a);
}
