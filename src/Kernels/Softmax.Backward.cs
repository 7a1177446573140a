using System.Numerics.Tensors;

namespace MixLens.Kernels;

/// <summary>The derivative of <see cref="Softmax.Rows"/>.</summary>
/// <remarks>
/// For one row a = softmax(s), the Jacobian ∂a/∂s = diag(a) − a aᵀ is symmetric, so the backward (vector-Jacobian)
/// and the forward-mode (Jacobian-vector) products are the same map:
/// <code>
///   u_j = a_j (v_j − Σ_k a_k v_k)          v = dL/da → u = dL/ds   (backward)
///                                          v = ṡ     → u = ȧ       (tangent)
/// </code>
/// A masked key (a_j = 0) gets u_j = 0.
/// </remarks>
public static partial class Softmax
{
    /// <summary>u[r,:] = a ⊙ (v[r,:] − ⟨a, v[r,:]⟩) with a = probs row r mod <paramref name="probRows"/> (many
    /// gradient or tangent rows may share one matrix of probabilities).</summary>
    /// <param name="probs">the softmax outputs [probRows, cols].</param>
    /// <param name="v">gradients w.r.t. the probabilities, or tangents of the scores [rows, cols].</param>
    /// <param name="u">the result [rows, cols]; may be <paramref name="v"/> itself.</param>
    /// <exception cref="ArgumentException">a length does not match, or rows is not a multiple of probRows.</exception>
    public static void Backward(ReadOnlySpan<float> probs, ReadOnlySpan<float> v, Span<float> u, int rows, int cols, int probRows)
    {
        const string op = nameof(Softmax) + "." + nameof(Backward);
        if (probRows <= 0 || rows % probRows != 0)
            throw new ArgumentException($"{op}: rows ({rows}) must be a positive multiple of probRows ({probRows}).", nameof(rows));
        if (probs.Length != (long)probRows * cols) throw new ArgumentException($"{op}: probs has {probs.Length} elements, expected probRows·cols = {probRows}·{cols}.", nameof(probs));
        if (v.Length != (long)rows * cols) throw new ArgumentException($"{op}: v has {v.Length} elements, expected rows·cols = {rows}·{cols}.", nameof(v));
        if (u.Length != (long)rows * cols) throw new ArgumentException($"{op}: u has {u.Length} elements, expected rows·cols = {rows}·{cols}.", nameof(u));
        for (int r = 0; r < rows; r++)
        {
            var a = probs.Slice(r % probRows * cols, cols);
            var vr = v.Slice(r * cols, cols);
            var ur = u.Slice(r * cols, cols);
            float dot = TensorPrimitives.Dot(a, vr);
            TensorPrimitives.Subtract(vr, dot, ur);
            TensorPrimitives.Multiply(ur, a, ur);
        }
    }
}
