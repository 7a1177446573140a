using MixLens.Engine.Tracing;

namespace MixLens.Engine.Interventions;

/// <summary>
/// Value Zeroing's intervention (Mohebbi et al. 2023, §3): in layer <see cref="Layer"/>, set the value vector of
/// token <see cref="Token"/> (after the value bias) to zero, in every head or only in head <see cref="Head"/>.
/// Attention probabilities are untouched, since they depend on Q and K only.
/// </summary>
/// <param name="Layer">0-based layer index.</param>
/// <param name="Token">0-based token position j whose value vector v_j is zeroed.</param>
/// <param name="Head">null: all heads; h: only the columns [h·d_head, (h+1)·d_head) of v_j.</param>
/// <param name="HeadDim">d_head, needed when <paramref name="Head"/> is set.</param>
public sealed record ZeroValueVectors(int Layer, int Token, int? Head = null, int HeadDim = 0) : IActivationPatch
{
    public bool Targets(int layer, LayerStep step) => layer == Layer && step == LayerStep.Value;

    public void Apply(in PatchSite site, Span<float> activation)
    {
        if ((uint)Token >= (uint)site.Tokens)
            throw new ArgumentOutOfRangeException(nameof(Token), $"token {Token} is outside the {site.Tokens}-token text");
        var row = activation.Slice(Token * site.Width, site.Width);
        if (Head is int h)
        {
            if (HeadDim <= 0 || (h + 1) * HeadDim > site.Width)
                throw new ArgumentOutOfRangeException(nameof(Head), $"head {h} with d_head {HeadDim} does not fit a {site.Width}-wide value");
            row.Slice(h * HeadDim, HeadDim).Clear();
        }
        else
        {
            row.Clear();
        }
    }
}
