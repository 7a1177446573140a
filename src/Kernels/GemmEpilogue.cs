namespace MixLens.Kernels;

/// <summary>An elementwise activation a GEMM can apply in its write-back (see <see cref="GemmEpilogue"/>).</summary>
public enum GemmActivation
{
    None,
    /// <summary><see cref="Activations.Gelu(Span{float})"/>: exact erf form, erf evaluated in float64 lanes.</summary>
    Gelu,
    /// <summary><see cref="Activations.GeluTanh(Span{float})"/>: the tanh approximation.</summary>
    GeluTanh,
    /// <summary><see cref="Activations.Relu"/>.</summary>
    Relu,
}

/// <summary>
/// What the packed GEMM does to each element of C as it writes it back, while the tile is still in registers or L1:
/// <code>
///   C[i,j] = act(α·Σ_p A[i,p]·B[p,j] + bias[j]) + R[i,j]        (each term optional: α = 1, no bias, no act, no R)
/// </code>
/// in that order, each step rounded to float32, so the result equals the unfused sequence GEMM, scale, add bias,
/// activation, add residual done as separate passes, bit for bit. <c>default</c> is the plain product.
/// </summary>
public readonly ref struct GemmEpilogue
{
    readonly float _alpha;
    readonly bool _hasAlpha;

    /// <summary>α, multiplying the product before the bias (1 unless set; attention scores use 1/√d_head).</summary>
    public float Alpha
    {
        get => _hasAlpha ? _alpha : 1f;
        init { _alpha = value; _hasAlpha = true; }
    }

    /// <summary>Empty for none, else n elements added to every row of C.</summary>
    public ReadOnlySpan<float> Bias { get; init; }

    /// <summary>Applied after the bias.</summary>
    public GemmActivation Activation { get; init; }

    /// <summary>Empty for none, else R [m, n] with row stride <see cref="ResidualStride"/>, added last (a residual
    /// connection). May be C itself (same memory and stride: C += A·B, then accumulated onto C from the start, with
    /// α = 1 and no activation), not a partial overlap.</summary>
    public ReadOnlySpan<float> Residual { get; init; }

    /// <summary>Leading dimension of <see cref="Residual"/> (≥ n).</summary>
    public int ResidualStride { get; init; }
}
