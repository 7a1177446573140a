using MixLens.Engine.Model;

namespace MixLens.Analysis.Methods;

/// <summary>
/// A device that runs the pair loop of the Value Zeroing fast path (ValueZeroing.FastPath.cs): given the per-token
/// precomputations of one layer, the cosine distance of every perturbation (i, j). The CPU loop is the default; an
/// <see cref="EncoderBackend"/> that also implements this interface (the GPU backend of <c>MixLens.Gpu</c>) gets the
/// pairs of <see cref="ValueZeroing.Compute"/> when it is the encoder's backend.
/// </summary>
public interface IValueZeroingPairs
{
    /// <summary>Writes C[i, j] (before row normalisation) = ½‖û′ − û‖² of output token i with token j's value zeroed,
    /// for every pair, into <paramref name="distances"/> [n, n] (row i = output token, column j = zeroed token).</summary>
    /// <exception cref="NotSupportedException">an activation the device does not implement.</exception>
    void Distances(ValueZeroingPairInputs inputs, Span<double> distances);
}

/// <summary>
/// The per-token quantities of one layer that the pairs (i, j) are formed from (names as in ValueZeroing.FastPath.cs;
/// n tokens, d hidden, f FFN width, H heads; all row-major).
/// </summary>
public sealed class ValueZeroingPairInputs
{
    public required int Tokens { get; init; }
    public required int Hidden { get; init; }
    public required int Intermediate { get; init; }
    public required int Heads { get; init; }
    /// <summary>The zeroed heads are [FirstHead, EndHead).</summary>
    public required int FirstHead { get; init; }
    public required int EndHead { get; init; }
    public required Activation Activation { get; init; }
    /// <summary>A [H, n, n], the attention probabilities.</summary>
    public required float[] Probs { get; init; }
    /// <summary>ũ_h,j = centred(v_h,j W_O,hᵀ), row j·H + h: [n·H, d].</summary>
    public required float[] UCentred { get; init; }
    /// <summary>w_h,j = (γ₁ ⊙ ũ_h,j) W_inᵀ, row j·H + h: [n·H, f].</summary>
    public required float[] WIn { get; init; }
    /// <summary>c_i, the centred attention residual [n, d].</summary>
    public required float[] Centred { get; init; }
    /// <summary>σ_i² + ε of LayerNorm 1 [n] (float64).</summary>
    public required double[] VariancePlusEps { get; init; }
    /// <summary>γ₁ [d].</summary>
    public required float[] Gamma1 { get; init; }
    /// <summary>q_i = (γ₁ ⊙ c_i) W_inᵀ [n, f].</summary>
    public required float[] Q { get; init; }
    /// <summary>z_i, the FFN pre-activation [n, f].</summary>
    public required float[] Z { get; init; }
    /// <summary>Φ(z_i) [n, f] for erf-GELU (null for the other activations).</summary>
    public required float[]? PhiZ { get; init; }
    /// <summary>The FFN residual (input of LayerNorm 2) [n, d].</summary>
    public required float[] FfnResidual { get; init; }
    /// <summary>LayerNorm ε.</summary>
    public required double Eps { get; init; }
    /// <summary>γ₂ [d] (float64).</summary>
    public required double[] Gamma2 { get; init; }
    /// <summary>The layer output y_i [n, d] (float64).</summary>
    public required double[] Output { get; init; }
    /// <summary>‖y_i‖² [n].</summary>
    public required double[] OutputSquared { get; init; }
    /// <summary>W_out as stored by HF Linear, [d, f].</summary>
    public required ReadOnlyMemory<float> OutputWeight { get; init; }
}
