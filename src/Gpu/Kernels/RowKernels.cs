using ILGPU;

namespace MixLens.Gpu.Kernels;

/// <summary>
/// Kernels with one group per row: the group's threads stride over the row's columns and combine their partial sums
/// in shared memory (float64). Group size: a power of two up to <see cref="MaxGroup"/> (<see cref="KernelGeometry"/>).
/// </summary>
public static class RowKernels
{
    /// <summary>The largest group a row kernel accepts (its shared-memory scratch).</summary>
    public const int MaxGroup = 256;

    /// <summary>Σ of every thread's <paramref name="v"/> over the group, returned to all threads (tree in float64).</summary>
    public static double GroupSum(ArrayView<double> scratch, double v)
    {
        int t = Group.IdxX;
        scratch[t] = v;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half) scratch[t] += scratch[t + half];
            Group.Barrier();
        }
        double sum = scratch[0];
        Group.Barrier();
        return sum;
    }

    /// <summary>The maximum of every thread's <paramref name="v"/> over the group, returned to all threads.</summary>
    public static double GroupMax(ArrayView<double> scratch, double v)
    {
        int t = Group.IdxX;
        scratch[t] = v;
        Group.Barrier();
        for (int half = Group.DimX / 2; half > 0; half /= 2)
        {
            if (t < half && scratch[t + half] > scratch[t]) scratch[t] = scratch[t + half];
            Group.Barrier();
        }
        double max = scratch[0];
        Group.Barrier();
        return max;
    }

    /// <summary>
    /// LayerNorm of row Grid.IdxX of x [rows, d] (as <see cref="MixLens.Kernels.LayerNorm.Forward"/>): μ and σ² in
    /// float64 (two passes), ρ = 1/√(σ² + ε), y = (float)((x − μ)·ρ)·γ + β. x and y may be the same buffer.
    /// </summary>
    public static void LayerNorm(ArrayView<float> x, ArrayView<float> gamma, ArrayView<float> beta, ArrayView<float> y,
        int d, float eps)
    {
        var scratch = SharedMemory.Allocate<double>(MaxGroup);
        long row = (long)Grid.IdxX * d;
        int t = Group.IdxX, g = Group.DimX;
        // μ = (1/d) Σ x_c
        double partial = 0;
        for (int c = t; c < d; c += g) partial += x[row + c];
        double mu = GroupSum(scratch, partial) / d;
        // σ² = (1/d) Σ (x_c − μ)²
        partial = 0;
        for (int c = t; c < d; c += g) { double dc = x[row + c] - mu; partial += dc * dc; }
        double rho = 1.0 / Math.Sqrt(GroupSum(scratch, partial) / d + eps);
        for (int c = t; c < d; c += g) y[row + c] = (float)((x[row + c] - mu) * rho) * gamma[c] + beta[c];
    }

    /// <summary>
    /// Softmax over keys of attention row Grid.IdxX of S [B·H, N, N] (padded texts): row r = (b·H + h)·N + i of text b
    /// with n_b = lengths[b] tokens. Columns j ≥ n_b and rows i ≥ n_b are set to 0; a row whose keys are all −∞
    /// (fully masked) becomes all 0, as on the CPU. exp and the sum in float64.
    /// </summary>
    public static void Softmax(ArrayView<float> scores, ArrayView<int> lengths, int heads, int maxLength)
    {
        var scratch = SharedMemory.Allocate<double>(MaxGroup);
        long r = Grid.IdxX;
        int i = (int)(r % maxLength), b = (int)(r / maxLength / heads), n = lengths[b];
        long row = r * maxLength;
        int t = Group.IdxX, g = Group.DimX;
        if (i >= n)
        {
            for (int j = t; j < maxLength; j += g) scores[row + j] = 0f;
            return;
        }
        double max = double.NegativeInfinity;
        for (int j = t; j < n; j += g) if (scores[row + j] > max) max = scores[row + j];
        max = GroupMax(scratch, max);
        if (max == double.NegativeInfinity)
        {
            for (int j = t; j < maxLength; j += g) scores[row + j] = 0f;
            return;
        }
        double partial = 0;
        for (int j = t; j < n; j += g) partial += DeviceMath.Exp(scores[row + j] - max);
        double sum = GroupSum(scratch, partial);
        // every thread has read the row (the sums above) before any writes it
        for (int j = t; j < maxLength; j += g)
            scores[row + j] = j < n ? (float)(DeviceMath.Exp(scores[row + j] - max) / sum) : 0f;
    }
}
