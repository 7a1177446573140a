using MixLens.Engine.Model;

namespace MixLens.Engine.Heads;

/// <summary>
/// The ELECTRA discriminator's replaced-token-detection head (HF <c>ElectraForPreTraining</c>,
/// <c>ElectraDiscriminatorPredictions</c>; Clark et al. 2020, §2), on every token's last hidden state H [n, d];
/// dropout is inactive at inference:
/// <code>
/// z = act(H W_dᵀ + b_d) w_pᵀ + b_p      [n, d] -> [n, d] -> [n, 1]
///     W_d = discriminator_predictions.dense (act = config hidden_act), w_p = discriminator_predictions.dense_prediction
/// </code>
/// z &gt; 0 (σ(z) &gt; ½) means the discriminator takes the token for a replaced one, as HF's example reads it
/// (<c>round((sign(z) + 1) / 2)</c>). Labels: 0 = "original", 1 = "replaced".
/// </summary>
public sealed class ReplacedTokenDetector
{
    const string DenseModule = "discriminator_predictions.dense", PredictionModule = "discriminator_predictions.dense_prediction";

    /// <summary>The two labels, index = label id.</summary>
    public static IReadOnlyList<string> Labels { get; } = ["original", "replaced"];

    readonly ReadOnlyMemory<float> _denseWeight, _denseBias, _predictionWeight, _predictionBias;
    readonly HeadActivation _activation;
    readonly int _hidden;

    ReplacedTokenDetector(ReadOnlyMemory<float> denseWeight, ReadOnlyMemory<float> denseBias, ReadOnlyMemory<float> predictionWeight,
        ReadOnlyMemory<float> predictionBias, HeadActivation activation, int hidden)
    {
        _denseWeight = denseWeight;
        _denseBias = denseBias;
        _predictionWeight = predictionWeight;
        _predictionBias = predictionBias;
        _activation = activation;
        _hidden = hidden;
    }

    /// <summary>The head of an ELECTRA checkpoint, or null when it has no <c>discriminator_predictions.dense_prediction.weight</c>
    /// (or is not ELECTRA).</summary>
    /// <exception cref="ModelFormatException">a tensor of the head is missing or mis-shaped (the message names it).</exception>
    public static ReplacedTokenDetector? TryLoad(WeightNames names, EncoderConfig config)
    {
        if (config.Family != ModelFamily.Electra || !names.Contains(PredictionModule + ".weight")) return null;
        int d = config.HiddenSize;
        return new ReplacedTokenDetector(names.Get(DenseModule + ".weight", d, d), names.Get(DenseModule + ".bias", d),
            names.Get(PredictionModule + ".weight", 1, d), names.Get(PredictionModule + ".bias", 1), HeadActivations.From(config.HiddenAct), d);
    }

    /// <summary>Detects replaced tokens in one text from its last hidden state [n, d].</summary>
    /// <returns>logits [n, 1] (z per token) and each token's label, "replaced" where z &gt; 0.</returns>
    public TokenClassification Classify(Tensor lastHiddenState)
    {
        int n = lastHiddenState.Shape[0];
        // a = act(H W_dᵀ + b_d)                                                          [n, d]
        var a = Dense.Forward(lastHiddenState.Data, n, _denseWeight, _denseBias, _hidden, _hidden);
        _activation.Apply(a);
        // z = a w_pᵀ + b_p                                                               [n, 1]
        var z = Dense.Forward(a, n, _predictionWeight, _predictionBias, 1, _hidden);
        var ids = z.Select(v => v > 0 ? 1 : 0).ToArray();
        return new TokenClassification(new Tensor(z, n, 1), ids, ids.Select(id => Labels[id]).ToArray());
    }
}
