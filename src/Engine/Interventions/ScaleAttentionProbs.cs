using MixLens.Engine.Tracing;

namespace MixLens.Engine.Interventions;

/// <summary>
/// Replaces one layer's attention probabilities A (all heads) by α·A, with its own α per text of the batch: attention
/// attribution (Hao et al. 2021) runs m copies of a text with α = 0, 1/m, …, (m−1)/m as one batch. Every other layer
/// is computed normally from its (changed) input.
/// </summary>
/// <param name="layer">the layer whose probabilities are scaled.</param>
/// <param name="factors">α per text of the batch.</param>
public sealed class ScaleAttentionProbs(int layer, IReadOnlyList<float> factors) : IActivationPatch
{
    public bool Targets(int l, LayerStep step) => l == layer && step == LayerStep.Probs;

    public void Apply(in PatchSite site, Span<float> activation)
    {
        float alpha = factors[site.Sequence];
        if (alpha == 1f) return;
        System.Numerics.Tensors.TensorPrimitives.Multiply(activation, alpha, activation);
    }
}
