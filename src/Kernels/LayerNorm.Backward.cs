using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using MixLens.Kernels.Internal;

namespace MixLens.Kernels;

/// <summary>The derivatives of <see cref="LayerNorm.Forward"/>: its vector-Jacobian product (backward) and its
/// Jacobian-vector product (forward-mode tangent), from the forward's saved input x and row statistics μ, ρ.</summary>
/// <remarks>
/// With x̂ = (x − μ)·ρ, ρ = 1/√(σ² + ε) and y = γ ⊙ x̂ + β over one row of C elements, the Jacobian is
/// <code>
///   ∂y/∂x = diag(γ) · ρ · (I − 1 1ᵀ/C − x̂ x̂ᵀ/C)           (the middle factor N is symmetric)
///   backward:  dx = ρ (g − mean(g) − x̂ · mean(g ⊙ x̂)),   g = γ ⊙ dy          (dx = Nᵀ diag(γ) dy)
///   tangent:   dy = γ ⊙ ρ (t − mean(t) − x̂ · mean(t ⊙ x̂))                     (dy = diag(γ) N t)
/// </code>
/// (llm.c <c>layernorm_backward</c>, without the weight gradients). x̂ is rebuilt from x, μ and ρ; each row is a few
/// vectorised passes (<see cref="TensorPrimitives"/>) in float32.
/// </remarks>
public static unsafe partial class LayerNorm
{
    /// <summary>dx[r,:] = ρ_r (g − mean(g) − x̂_r mean(g ⊙ x̂_r)) with g = γ ⊙ dy[r,:]; added to dx when
    /// <paramref name="accumulate"/> (a residual branch's gradient is already there).</summary>
    /// <param name="x">the forward's input [rows, cols].</param>
    /// <param name="mean">μ per row [rows] (<see cref="Forward"/>'s <c>mean</c> output).</param>
    /// <param name="rstd">ρ per row [rows] (<see cref="Forward"/>'s <c>rstd</c> output).</param>
    /// <param name="dy">the gradient at the output [rows, cols].</param>
    /// <param name="dx">the gradient at the input [rows, cols]; must not overlap dy unless it is dy itself.</param>
    /// <exception cref="ArgumentException">a span length does not match rows/cols.</exception>
    public static void Backward(ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> dy, Span<float> dx, int rows, int cols, bool accumulate = false)
    {
        ValidateDerivative(nameof(Backward), x, mean, rstd, gamma, dy, dx, rows, cols, rows);
        fixed (float* px = x, pm = mean, pr = rstd, pg = gamma, pdy = dy, pdx = dx)
            RunRows(new DerivativeRows(px, pm, pr, pg, pdy, pdx, cols, rows, accumulate, gammaFirst: true), rows, cols);
    }

    /// <summary>The tangent dy = γ ⊙ ρ (t − mean(t) − x̂ mean(t ⊙ x̂)) of many tangent rows at the statistics of a few:
    /// tangent row r uses row r mod <paramref name="statRows"/> of x, μ and ρ (e.g. B tangents of one n-token text
    /// stacked as [B·n, cols]).</summary>
    /// <param name="x">the forward's input [statRows, cols].</param>
    /// <param name="dx">tangents at the input [rows, cols].</param>
    /// <param name="dy">tangents at the output [rows, cols], overwritten.</param>
    /// <exception cref="ArgumentException">a span length does not match, or rows is not a multiple of statRows.</exception>
    public static void Tangent(ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd, ReadOnlySpan<float> gamma,
        ReadOnlySpan<float> dx, Span<float> dy, int rows, int cols, int statRows)
    {
        ValidateDerivative(nameof(Tangent), x, mean, rstd, gamma, dx, dy, rows, cols, statRows);
        fixed (float* px = x, pm = mean, pr = rstd, pg = gamma, pdx = dx, pdy = dy)
            RunRows(new DerivativeRows(px, pm, pr, pg, pdx, pdy, cols, statRows, accumulate: false, gammaFirst: false), rows, cols);
    }

    static void RunRows(DerivativeRows body, int rows, int cols)
    {
        if (rows == 0) return;
        int threads = (int)Math.Clamp((long)rows * cols / ElementsPerThread, 1, Parallelism.MaxThreads);
        if (threads <= 1) { body.Run(0, rows); return; }
        var chunks = new DerivativeChunks(body, rows, 2 * threads);
        ParallelJob.Run(chunks.Count, chunks, threads);
    }

    /// <summary>One call's operands: input v (dy for backward, the tangent for forward mode), output u.</summary>
    readonly struct DerivativeRows(float* x, float* mean, float* rstd, float* gamma, float* v, float* u, int cols, int statRows,
        bool accumulate, bool gammaFirst)
    {
        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(int r0, int r1)
        {
            var buffer = cols <= 2048 ? stackalloc float[2 * cols] : new float[2 * cols];
            Span<float> xHat = buffer.Slice(0, cols), g = buffer.Slice(cols, cols);
            var gammaRow = new ReadOnlySpan<float>(gamma, cols);
            for (int r = r0; r < r1; r++)
            {
                int s = r % statRows;
                var xr = new ReadOnlySpan<float>(x + (nint)s * cols, cols);
                var vr = new ReadOnlySpan<float>(v + (nint)r * cols, cols);
                var ur = new Span<float>(u + (nint)r * cols, cols);
                float rho = rstd[s];
                // x̂ = (x − μ)·ρ;  g = γ ⊙ v (backward) or v (tangent)
                TensorPrimitives.Subtract(xr, mean[s], xHat);
                TensorPrimitives.Multiply(xHat, rho, xHat);
                if (gammaFirst) TensorPrimitives.Multiply(gammaRow, vr, g);
                else vr.CopyTo(g);
                float meanG = TensorPrimitives.Sum(g) / cols, meanGx = TensorPrimitives.Dot(g, xHat) / cols;
                // ρ (g − mean(g) − x̂ mean(g ⊙ x̂)), then γ ⊙ … (tangent)
                TensorPrimitives.Subtract(g, meanG, g);
                TensorPrimitives.MultiplyAdd(xHat, -meanGx, g, g);
                TensorPrimitives.Multiply(g, rho, g);
                if (!gammaFirst) TensorPrimitives.Multiply(g, gammaRow, g);
                if (accumulate) TensorPrimitives.Add(ur, g, ur);
                else g.CopyTo(ur);
            }
        }
    }

    readonly struct DerivativeChunks(DerivativeRows body, int rows, int chunks) : IParallelBody
    {
        public int Count { get; } = Math.Min(chunks, rows);
        public void Invoke(int chunk) => body.Run((int)((long)chunk * rows / Count), (int)((long)(chunk + 1) * rows / Count));
    }

    static void ValidateDerivative(string op, ReadOnlySpan<float> x, ReadOnlySpan<float> mean, ReadOnlySpan<float> rstd,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> input, ReadOnlySpan<float> output, int rows, int cols, int statRows)
    {
        op = nameof(LayerNorm) + "." + op;
        if (rows < 0) ThrowHelper.ThrowNegativeDimension(op, nameof(rows), rows);
        if (cols < 0) ThrowHelper.ThrowNegativeDimension(op, nameof(cols), cols);
        if (statRows <= 0 && rows > 0 || statRows > 0 && rows % statRows != 0)
            throw new ArgumentException($"{op}: rows ({rows}) must be a multiple of the statistics' rows ({statRows}).", nameof(rows));
        long size = (long)rows * cols, statSize = (long)statRows * cols;
        if (x.Length != statSize) ThrowHelper.ThrowLengthMismatch(op, nameof(x), x.Length, statSize, "statistics rows · cols");
        if (mean.Length != statRows) ThrowHelper.ThrowLengthMismatch(op, nameof(mean), mean.Length, statRows, "statistics rows");
        if (rstd.Length != statRows) ThrowHelper.ThrowLengthMismatch(op, nameof(rstd), rstd.Length, statRows, "statistics rows");
        if (gamma.Length != cols) ThrowHelper.ThrowLengthMismatch(op, nameof(gamma), gamma.Length, cols, "cols");
        if (input.Length != size) ThrowHelper.ThrowLengthMismatch(op, "input gradient", input.Length, size, "rows · cols");
        if (output.Length != size) ThrowHelper.ThrowLengthMismatch(op, "output gradient", output.Length, size, "rows · cols");
    }
}
