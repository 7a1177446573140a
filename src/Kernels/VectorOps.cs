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
