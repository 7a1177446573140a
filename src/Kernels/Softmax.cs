using System.Numerics.Tensors;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>Row softmax for attention probabilities.</summary>
public static class Softmax
{
    /// <summary>
    /// In place, each of <paramref name="rows"/> rows of length <paramref name="cols"/>: max-subtracted softmax;
    /// -inf entries become 0; a row that is entirely -inf becomes all zeros.
    /// </summary>
    /// <remarks>
    /// Three passes per row, as MLAS's three softmax kernels (reduce-max, sum-exp, output):
    /// <code>
    ///   (1) μ = max_j x_j
    ///   (2) e_j = exp(x_j − μ),  s = Σ_j e_j          (e_j ∈ [0, 1], the max gives 1, so s ≥ 1: no overflow, no 0/0)
    ///   (3) p_j = e_j · (1/s)
    /// </code>
    /// The passes use <see cref="TensorPrimitives"/> (<c>Max</c>, <c>Exp</c>, <c>Sum</c>, <c>Multiply</c>), whose float Exp
    /// is accurate to about one ulp; its <c>SoftMax</c> is not used because it does not subtract the max. A row whose
    /// max is -∞ (fully masked) is written as zeros instead of the 0/0 = NaN the formula gives. A NaN anywhere in a row
    /// makes the whole row NaN; a +∞ entry also gives NaN (∞ − ∞).
    /// </remarks>
    /// <exception cref="ArgumentException"><paramref name="x"/> is not rows·cols long.</exception>
    public static void Rows(Span<float> x, int rows, int cols)
    {
        Validate(nameof(Rows), x.Length, rows, cols);
        if (cols == 0) return;
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            float max = TensorPrimitives.Max(row);                 // (1)
            if (float.IsNegativeInfinity(max))
            {
                row.Clear();                                       // fully masked: zeros, not NaN
                continue;
            }
            TensorPrimitives.Subtract(row, max, row);              // (2)
            TensorPrimitives.Exp(row, row);
            float sum = TensorPrimitives.Sum(row);
            TensorPrimitives.Multiply(row, 1f / sum, row);         // (3)
        }
    }

    /// <summary>
    /// Scalar reference: p_j = exp(x_j − max) / Σ_k exp(x_k − max), computed in float64; a fully -∞ row gives zeros.
    /// </summary>
    public static void Reference(Span<float> x, int rows, int cols)
    {
        Validate(nameof(Reference), x.Length, rows, cols);
        for (int r = 0; r < rows; r++)
        {
            var row = x.Slice(r * cols, cols);
            double max = double.NegativeInfinity;
            foreach (float v in row) max = Math.Max(max, v);
            if (double.IsNegativeInfinity(max)) { row.Clear(); continue; }
            double sum = 0;
            foreach (float v in row) sum += Math.Exp(v - max);
            for (int j = 0; j < cols; j++) row[j] = (float)(Math.Exp(row[j] - max) / sum);
        }
    }

    static void Validate(string op, int length, int rows, int cols)
    {
        if (rows < 0) ThrowHelper.ThrowNegativeDimension(op, nameof(rows), rows);
        if (cols < 0) ThrowHelper.ThrowNegativeDimension(op, nameof(cols), cols);
        if (length != (long)rows * cols) ThrowHelper.ThrowLengthMismatch(op, "x", length, (long)rows * cols, $"rows·cols = {rows}·{cols}");
    }
}
