using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Engine.Heads;

/// <summary>One candidate token for a masked position: vocabulary id, its vocabulary string, softmax probability.</summary>
public sealed record TokenProbability(int Id, string Token, float Prob);

/// <summary>The top candidates for one masked token: its position in the encoding and the candidates, best first.</summary>
public sealed record MaskPrediction(int Position, IReadOnlyList<TokenProbability> Candidates);

/// <summary>
/// The masked-language-model heads of the four families, one shape on the last hidden states of the masked positions
/// H_m [m, d] (E' = d, or the embedding width E for the ELECTRA generator); dropout is inactive at inference:
/// <code>
/// Z      = LayerNorm(act(H_m W_tᵀ + b_t))   [m, E']
/// logits = Z W_decᵀ + b_dec                  [m, V]    W_dec = E_word when the checkpoint stores no decoder (tied; refused when tie_word_embeddings is false)
///
/// HF class                W_t (act)                                      LayerNorm                            W_dec / b_dec
/// BertForMaskedLM         cls.predictions.transform.dense (hidden_act)   cls.predictions.transform.LayerNorm  cls.predictions.decoder / cls.predictions.bias
/// RobertaForMaskedLM      lm_head.dense (gelu)                           lm_head.layer_norm                   lm_head.decoder / lm_head.bias
/// DistilBertForMaskedLM   vocab_transform (activation)                   vocab_layer_norm                     vocab_projector
/// ElectraForMaskedLM      generator_predictions.dense (gelu)             generator_predictions.LayerNorm      generator_lm_head
/// </code>
/// (Devlin et al. 2019, §3.1 and appendix A.1; the LayerNorm eps is the config's, 1e-12 for DistilBERT.) The bias is
/// also accepted under the decoder's name (<c>….decoder.bias</c>), as older checkpoints store it.
/// </summary>
public sealed class MaskedLanguageModelHead
{
    /// <summary>One family's names for the head; <see cref="Biases"/> are tried in order.</summary>
    sealed record Layout(string HfClass, string Transform, HeadActivation? Activation, string LayerNorm, string Decoder, string[] Biases);

    static Layout For(ModelFamily family) => family switch
    {
        ModelFamily.Bert => new("BertForMaskedLM", "cls.predictions.transform.dense", null, "cls.predictions.transform.LayerNorm",
            "cls.predictions.decoder", ["cls.predictions.bias", "cls.predictions.decoder.bias"]),
        ModelFamily.Roberta => new("RobertaForMaskedLM", "lm_head.dense", HeadActivation.Gelu, "lm_head.layer_norm",
            "lm_head.decoder", ["lm_head.bias", "lm_head.decoder.bias"]),
        ModelFamily.DistilBert => new("DistilBertForMaskedLM", "vocab_transform", null, "vocab_layer_norm",
            "vocab_projector", ["vocab_projector.bias"]),
        ModelFamily.Electra => new("ElectraForMaskedLM", "generator_predictions.dense", HeadActivation.Gelu, "generator_predictions.LayerNorm",
            "generator_lm_head", ["generator_lm_head.bias"]),
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "unknown model family"),
    };

    readonly ReadOnlyMemory<float> _transformWeight, _transformBias, _layerNormWeight, _layerNormBias, _decoderWeight, _decoderBias;
    readonly HeadActivation _activation;
    readonly float _eps;
    readonly int _hidden, _width, _vocab;

    /// <summary>The HF class whose head this is (e.g. <c>BertForMaskedLM</c>).</summary>
    public string HfClass { get; }

    /// <summary>True when the decoder is the word-embedding table (no decoder weight stored).</summary>
    public bool TiedDecoder { get; }

    /// <summary>V, the vocabulary size (columns of the logits).</summary>
    public int VocabSize => _vocab;

    MaskedLanguageModelHead(Layout layout, HeadActivation activation, float eps, int hidden, int width, int vocab, bool tied,
        ReadOnlyMemory<float> transformWeight, ReadOnlyMemory<float> transformBias,
        ReadOnlyMemory<float> layerNormWeight, ReadOnlyMemory<float> layerNormBias,
        ReadOnlyMemory<float> decoderWeight, ReadOnlyMemory<float> decoderBias)
    {
        HfClass = layout.HfClass;
        _activation = activation;
        _eps = eps;
        _hidden = hidden;
        _width = width;
        _vocab = vocab;
        TiedDecoder = tied;
        _transformWeight = transformWeight;
        _transformBias = transformBias;
        _layerNormWeight = layerNormWeight;
        _layerNormBias = layerNormBias;
        _decoderWeight = decoderWeight;
        _decoderBias = decoderBias;
    }

    /// <summary>The head of a checkpoint, or null when it has no <c>W_t</c> weight of its family.</summary>
    /// <param name="names">the checkpoint's names.</param>
    /// <param name="config">the model's config (family, sizes, activation, eps).</param>
    /// <param name="encoder">the encoder weights: the word-embedding table is the decoder when none is stored.</param>
    /// <exception cref="ModelFormatException">W_t is present but another tensor of the head is missing or
    /// mis-shaped (the message names it), the decoder is not stored and config.json's <c>tie_word_embeddings</c> is
    /// false, or the tied decoder's width differs from W_t's output width.</exception>
    public static MaskedLanguageModelHead? TryLoad(WeightNames names, EncoderConfig config, BertWeights encoder)
    {
        var layout = For(config.Family);
        string transform = layout.Transform + ".weight";
        if (!names.Contains(transform)) return null;
        int d = config.HiddenSize, V = config.VocabSize;
        int width = names.Rows(transform);
        var transformWeight = names.Get(transform, width, d);
        string? bias = layout.Biases.FirstOrDefault(names.Contains);
        if (bias is null)
            throw new ModelFormatException($"{names.Path}: the {layout.HfClass} head has '{transform}' but no output bias " +
                $"(expected {string.Join(" or ", layout.Biases.Select(b => $"'{b}'"))}, shape [{V}])");

        bool tied = !names.Contains(layout.Decoder + ".weight");
        ReadOnlyMemory<float> decoder;
        if (tied)
        {
            // HF ties the decoder to the word embeddings only when tie_word_embeddings is true (PreTrainedModel
            // tie_weights); with false and no stored decoder, from_pretrained leaves it randomly initialised.
            if (!config.TieWordEmbeddings)
                throw new ModelFormatException($"{names.Path}: the {layout.HfClass} head stores no '{layout.Decoder}.weight' and config.json sets " +
                    "\"tie_word_embeddings\": false, so the decoder is not the word embeddings (HF would initialise it randomly); " +
                    $"store '{layout.Decoder}.weight' or set tie_word_embeddings to true");
            if (config.EmbeddingSize != width)
                throw new ModelFormatException($"{names.Path}: the {layout.HfClass} head stores no '{layout.Decoder}.weight' and its " +
                    $"width {width} differs from the word embeddings' {config.EmbeddingSize}, so the decoder cannot be tied to them");
            decoder = encoder.Embeddings.Word;
        }
        else
        {
            decoder = names.Get(layout.Decoder + ".weight", V, width);
        }
        return new MaskedLanguageModelHead(layout, layout.Activation ?? HeadActivations.From(config.HiddenAct), config.LayerNormEps,
            d, width, V, tied,
            transformWeight, names.Get(layout.Transform + ".bias", width),
            names.GetLayerNorm(layout.LayerNorm, "weight", width), names.GetLayerNorm(layout.LayerNorm, "bias", width),
            decoder, names.Get(bias, V));
    }

    /// <summary>Why a checkpoint has no masked-LM head: the tensor of its family's head it lacks.</summary>
    public static string Absence(WeightNames names, EncoderConfig config)
    {
        var layout = For(config.Family);
        return $"{names.Path}: the checkpoint has no masked-LM head: missing '{layout.Transform}.weight' " +
            $"(the {layout.HfClass} head is '{layout.Transform}' + activation + '{layout.LayerNorm}', then the decoder " +
            $"'{layout.Decoder}' or the tied word embeddings, + '{layout.Biases[0]}')";
    }

    /// <summary>The vocabulary logits at some positions of one text.</summary>
    /// <param name="lastHiddenState">the text's last hidden state [n, d].</param>
    /// <param name="positions">the m positions to predict (0 ≤ position &lt; n).</param>
    /// <returns>logits [m, V].</returns>
    /// <exception cref="ArgumentOutOfRangeException">a position is outside 0..n-1.</exception>
    public Tensor Logits(Tensor lastHiddenState, IReadOnlyList<int> positions)
    {
        int n = lastHiddenState.Shape[0], m = positions.Count;
        var h = new float[m * _hidden];
        for (int r = 0; r < m; r++)
        {
            if ((uint)positions[r] >= (uint)n)
                throw new ArgumentOutOfRangeException(nameof(positions), $"position {positions[r]} is outside 0..{n - 1}");
            lastHiddenState.Row(positions[r]).CopyTo(h.AsSpan(r * _hidden, _hidden));
        }
        // Z = LayerNorm(act(H_m W_tᵀ + b_t))                                            [m, d] -> [m, E']
        var z = Dense.Forward(h, m, _transformWeight, _transformBias, _width, _hidden);
        _activation.Apply(z);
        LayerNorm.Forward(z, _layerNormWeight.Span, _layerNormBias.Span, _eps, z, m, _width);
        // logits = Z W_decᵀ + b_dec                                                      [m, E'] -> [m, V]
        return new Tensor(Dense.Forward(z, m, _decoderWeight, _decoderBias, _vocab, _width), m, _vocab);
    }

    /// <summary>
    /// The k most probable tokens of one logits row [V] under softmax (computed in float64), best first; equal
    /// probabilities in id order.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k is not positive.</exception>
    public static (int Id, float Prob)[] TopK(ReadOnlySpan<float> logits, int k)
    {
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), k, "k must be at least 1");
        k = Math.Min(k, logits.Length);
        double max = double.NegativeInfinity;
        foreach (var z in logits) max = Math.Max(max, z);
        double sum = 0;
        foreach (var z in logits) sum += Math.Exp(z - max);

        // Keep the k best (id, logit) pairs in a small sorted buffer: V is large, k small.
        var best = new List<(int Id, float Logit)>(k + 1);
        for (int id = 0; id < logits.Length; id++)
        {
            float z = logits[id];
            if (best.Count == k && z <= best[^1].Logit) continue;
            int at = best.Count;
            while (at > 0 && best[at - 1].Logit < z) at--;
            best.Insert(at, (id, z));
            if (best.Count > k) best.RemoveAt(k);
        }
        return best.Select(b => (b.Id, (float)(Math.Exp(b.Logit - max) / sum))).ToArray();
    }
}
