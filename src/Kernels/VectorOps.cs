using System.Numerics.Tensors;
using System.Runtime.Intrinsics.X86;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>
/// Span primitives the engine and analyses share. Thin, validated wrappers over <see cref="TensorPrimitives"/>
/// (vectorised 512 → 256 → 128 → scalar by the runtime), with the lengths checked up front so a shape bug fails with
/// a message naming the op instead of silently processing a prefix.
/// </summary>
public static class VectorOps
{
    /// <summary>Rows and columns of the square tiles <see cref="Transpose"/> works in without AVX.</summary>
    const int TransposeTile = 16;

    /// <summary>
    /// aT = aᵀ: a is row-major [rows, cols], aT row-major [cols, rows] (aT[j·rows + i] = a[i·cols + j]).
    /// With AVX, in 8 × 8 blocks held in eight registers (eight row loads, three rounds of shuffles, eight column stores);
    /// otherwise element by element in 16 × 16 tiles, so the strided side touches 16 cache lines per tile instead of one
    /// line per element (an element-by-element transpose of a 512 × 512 attention matrix writes with a stride of 2 KiB,
    /// which maps every write to one or two L1 sets). The attention backward transposes two n × n matrices per head:
    /// at n = 512 the element-wise tiles took 11 % of integrated gradients' time (perf, one thread).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">rows or cols is negative.</exception>
    /// <exception cref="ArgumentException">a or aT is not rows·cols long, or they overlap.</exception>
    public static unsafe void Transpose(ReadOnlySpan<float> a, int rows, int cols, Span<float> aT)
    {
        if (rows < 0) ThrowHelper.ThrowNegativeDimension(nameof(Transpose), nameof(rows), rows);
        if (cols < 0) ThrowHelper.ThrowNegativeDimension(nameof(Transpose), nameof(cols), cols);
        long size = (long)rows * cols;
        if (a.Length != size) ThrowHelper.ThrowLengthMismatch(nameof(Transpose), nameof(a), a.Length, size, $"rows·cols = {rows}·{cols}");
        if (aT.Length != size) ThrowHelper.ThrowLengthMismatch(nameof(Transpose), nameof(aT), aT.Length, size, $"rows·cols = {rows}·{cols}");
        if (a.Overlaps(aT)) throw new ArgumentException($"{nameof(Transpose)}: aT overlaps a (a transpose is not done in place).", nameof(aT));
        if (size == 0) return;
        fixed (float* pa = a, pt = aT)
        {
            if (System.Runtime.Intrinsics.X86.Avx.IsSupported && VectorPaths.Active >= VectorPath.Vector256)
                TransposeBlocks8(pa, rows, cols, pt);
            else
                TransposeTiles(pa, rows, cols, pt);
        }
    }

    /// <summary>Element by element in <see cref="TransposeTile"/> × <see cref="TransposeTile"/> tiles.</summary>
    static unsafe void TransposeTiles(float* a, int rows, int cols, float* aT)
    {
        for (int i0 = 0; i0 < rows; i0 += TransposeTile)
        {
            int i1 = Math.Min(rows, i0 + TransposeTile);
            for (int j0 = 0; j0 < cols; j0 += TransposeTile)
            {
                int j1 = Math.Min(cols, j0 + TransposeTile);
                for (int i = i0; i < i1; i++)
                    for (int j = j0; j < j1; j++) aT[(nint)j * rows + i] = a[(nint)i * cols + j];
            }
        }
    }

    /// <summary>8 × 8 blocks in AVX registers; the rows and columns past the last whole block element by element.</summary>
    static unsafe void TransposeBlocks8(float* a, int rows, int cols, float* aT)
    {
        int i = 0;
        for (; i + 8 <= rows; i += 8)
        {
            int j = 0;
            for (; j + 8 <= cols; j += 8) Transpose8x8(a + (nint)i * cols + j, cols, aT + (nint)j * rows + i, rows);
            for (; j < cols; j++)
                for (int r = 0; r < 8; r++) aT[(nint)j * rows + i + r] = a[(nint)(i + r) * cols + j];
        }
        for (; i < rows; i++)
            for (int j = 0; j < cols; j++) aT[(nint)j * rows + i] = a[(nint)i * cols + j];
    }

    /// <summary>
    /// One 8 × 8 block: rows r₀…r₇ of a (stride <paramref name="lda"/>) become rows of aT (stride <paramref name="ldt"/>).
    /// <code>
    ///   unpack:   t₀ = [a00 a10 a01 a11 | a04 a14 a05 a15]   (pairs of rows interleaved, per 128-bit lane)
    ///   shuffle:  s₀ = [a00 a10 a20 a30 | a04 a14 a24 a34]   (four rows per lane)
    ///   permute:  o₀ = [a00 a10 a20 a30 a40 a50 a60 a70]     (low lanes of s₀ and s₄: column 0; high lanes: column 4)
    /// </code>
    /// </summary>
    static unsafe void Transpose8x8(float* a, nint lda, float* aT, nint ldt)
    {
        var r0 = Avx.LoadVector256(a);
        var r1 = Avx.LoadVector256(a + lda);
        var r2 = Avx.LoadVector256(a + 2 * lda);
        var r3 = Avx.LoadVector256(a + 3 * lda);
        var r4 = Avx.LoadVector256(a + 4 * lda);
        var r5 = Avx.LoadVector256(a + 5 * lda);
        var r6 = Avx.LoadVector256(a + 6 * lda);
        var r7 = Avx.LoadVector256(a + 7 * lda);
        var t0 = Avx.UnpackLow(r0, r1); var t1 = Avx.UnpackHigh(r0, r1);
        var t2 = Avx.UnpackLow(r2, r3); var t3 = Avx.UnpackHigh(r2, r3);
        var t4 = Avx.UnpackLow(r4, r5); var t5 = Avx.UnpackHigh(r4, r5);
        var t6 = Avx.UnpackLow(r6, r7); var t7 = Avx.UnpackHigh(r6, r7);
        var s0 = Avx.Shuffle(t0, t2, 0x44); var s1 = Avx.Shuffle(t0, t2, 0xEE);
        var s2 = Avx.Shuffle(t1, t3, 0x44); var s3 = Avx.Shuffle(t1, t3, 0xEE);
        var s4 = Avx.Shuffle(t4, t6, 0x44); var s5 = Avx.Shuffle(t4, t6, 0xEE);
        var s6 = Avx.Shuffle(t5, t7, 0x44); var s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(aT, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(aT + ldt, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(aT + 2 * ldt, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(aT + 3 * ldt, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(aT + 4 * ldt, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(aT + 5 * ldt, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(aT + 6 * ldt, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(aT + 7 * ldt, Avx.Permute2x128(s3, s7, 0x31));
    }

    /// <summary>y[i] += x[i] (residual connections).</summary>
    public static void Add(ReadOnlySpan<float> x, Span<float> y)
    {
        CheckSameLength(nameof(Add), x.Length, y.Length, "y");
        TensorPrimitives.Add(y, x, y);
    }

    /// <summary>destination[i] = x[i] + y[i]. destination may be x or y.</summary>
    public static void Add(ReadOnlySpan<float> x, ReadOnlySpan<float> y, Span<float> destination)
    {
        CheckSameLength(nameof(Add), x.Length, y.Length, "y");
        CheckSameLength(nameof(Add), x.Length, destination.Length, nameof(destination));
        TensorPrimitives.Add(x, y, destination);
    }

    /// <summary>x[i] *= s.</summary>
    public static void Scale(Span<float> x, float s) => TensorPrimitives.Multiply(x, s, x);

    /// <summary>x[r, c] += bias[c] for every row of a row-major [rows, cols] matrix.</summary>
    public static void AddRowBias(Span<float> x, ReadOnlySpan<float> bias, int rows, int cols)
    {
        if (rows < 0) ThrowHelper.ThrowNegativeDimension(nameof(AddRowBias), nameof(rows), rows);
        if (cols < 0) ThrowHelper.ThrowNegativeDimension(nameof(AddRowBias), nameof(cols), cols);
        if (x.Length != (long)rows * cols) ThrowHelper.ThrowLengthMismatch(nameof(AddRowBias), nameof(x), x.Length, (long)rows * cols, $"rows·cols = {rows}·{cols}");
        if (bias.Length != cols) ThrowHelper.ThrowLengthMismatch(nameof(AddRowBias), nameof(bias), bias.Length, cols, "cols");
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            TensorPrimitives.Add(row, bias, row);
        }
    }

    /// <summary>Σ x[i]·y[i] (float32 accumulation).</summary>
    public static float Dot(ReadOnlySpan<float> x, ReadOnlySpan<float> y)
    {
        CheckSameLength(nameof(Dot), x.Length, y.Length, "y");
        return TensorPrimitives.Dot(x, y);
    }

    /// <summary>‖x‖₂ = √(Σ x[i]²) (float32 accumulation).</summary>
    public static float L2Norm(ReadOnlySpan<float> x) => TensorPrimitives.Norm(x);

    /// <summary>Σ x[i] (float32 accumulation).</summary>
    public static float Sum(ReadOnlySpan<float> x) => TensorPrimitives.Sum(x);

    static void CheckSameLength(string op, int expected, int actual, string name)
    {
        if (actual != expected) ThrowHelper.ThrowLengthMismatch(op, name, actual, expected, "the length of x");
    }
}
