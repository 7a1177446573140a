using System.Numerics.Tensors;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>
/// Span primitives the engine and analyses share. Thin, validated wrappers over <see cref="TensorPrimitives"/>
/// (vectorised 512 → 256 → 128 → scalar by the runtime), with the lengths checked up front so a shape bug fails with
/// a message naming the op instead of silently processing a prefix.
/// </summary>
public static class VectorOps
{
    /// <summary>Rows and columns of the square tiles <see cref="Transpose"/> works in.</summary>
    const int TransposeTile = 16;

    /// <summary>
    /// aT = aᵀ: a is row-major [rows, cols], aT row-major [cols, rows] (aT[j·rows + i] = a[i·cols + j]).
    /// Done in 16 × 16 tiles, so the strided side touches 16 cache lines per tile instead of one line per element: an
    /// element-by-element transpose of a 512 × 512 attention matrix writes with a stride of 2 KiB, which maps every write
    /// to one or two L1 sets and misses on nearly every element.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">rows or cols is negative.</exception>
    /// <exception cref="ArgumentException">a or aT is not rows·cols long, or they overlap.</exception>
    public static void Transpose(ReadOnlySpan<float> a, int rows, int cols, Span<float> aT)
    {
        if (rows < 0) ThrowHelper.ThrowNegativeDimension(nameof(Transpose), nameof(rows), rows);
        if (cols < 0) ThrowHelper.ThrowNegativeDimension(nameof(Transpose), nameof(cols), cols);
        long size = (long)rows * cols;
        if (a.Length != size) ThrowHelper.ThrowLengthMismatch(nameof(Transpose), nameof(a), a.Length, size, $"rows·cols = {rows}·{cols}");
        if (aT.Length != size) ThrowHelper.ThrowLengthMismatch(nameof(Transpose), nameof(aT), aT.Length, size, $"rows·cols = {rows}·{cols}");
        if (a.Overlaps(aT)) throw new ArgumentException($"{nameof(Transpose)}: aT overlaps a (a transpose is not done in place).", nameof(aT));
        for (int i0 = 0; i0 < rows; i0 += TransposeTile)
        {
            int i1 = Math.Min(rows, i0 + TransposeTile);
            for (int j0 = 0; j0 < cols; j0 += TransposeTile)
            {
                int j1 = Math.Min(cols, j0 + TransposeTile);
                for (int i = i0; i < i1; i++)
                {
                    var row = a.Slice(i * cols, cols);
                    for (int j = j0; j < j1; j++) aT[j * rows + i] = row[j];
                }
            }
        }
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
