namespace MixLens.Kernels;

/// <summary>LayerNorm over the last axis (STUB).</summary>
public static class LayerNorm
{
    /// <summary>y[r,:] = (x[r,:] - mean_r) * rstd_r * gamma + beta, rstd_r = 1/sqrt(var_r + eps) (biased variance).
    /// Optionally writes mean[r] and rstd[r]. x and y may alias.</summary>
    public static void Forward(ReadOnlySpan<float> x, ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, float eps,
        Span<float> y, int rows, int cols, Span<float> mean = default, Span<float> rstd = default) => throw new NotImplementedException();
}
