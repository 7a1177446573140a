using MixLens.Engine.Tracing;

namespace MixLens.Engine.Interventions;

/// <summary>
/// Where a patch is being applied: layer, sub-step, the text's index in the batch, and the shape of the span
/// handed to <see cref="IActivationPatch.Apply"/>: [Tokens, Width] rows for the [n, ·] sub-steps (Head = -1),
/// or one head's [Tokens, Tokens] matrix for <see cref="LayerStep.Scores"/> and <see cref="LayerStep.Probs"/>
/// (Head = h, Width = n).
/// </summary>
public readonly record struct PatchSite(int Layer, LayerStep Step, int Sequence, int Head, int Tokens, int Width);

/// <summary>
/// An intervention on the forward pass (activation patching): after sub-step <c>Step</c> of layer <c>Layer</c>
/// has been computed, the encoder hands the activation to <see cref="Apply"/>, which may overwrite it in place;
/// everything downstream then uses the patched values (and a trace records them). Value Zeroing
/// (<see cref="ZeroValueVectors"/>) is one such patch; replacing an activation or ablating a head are others.
/// </summary>
public interface IActivationPatch
{
    /// <summary>Whether this patch acts on <paramref name="step"/> of <paramref name="layer"/> (asked before each step).</summary>
    bool Targets(int layer, LayerStep step);

    /// <summary>Overwrites (part of) <paramref name="activation"/>, laid out as <paramref name="site"/> describes.</summary>
    void Apply(in PatchSite site, Span<float> activation);
}
