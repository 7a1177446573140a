using System.Numerics.Tensors;
using MixLens.Engine.Model;

namespace MixLens.Engine.Heads;

/// <summary>A token classifier's output for one text: logits [n, labels] and the argmax label of every token.</summary>
public sealed record TokenClassification(Tensor Logits, int[] LabelIds, string[] Labels);

/// <summary>
/// The token-classification head of every family (HF <c>BertForTokenClassification</c>,
/// <c>RobertaForTokenClassification</c>, <c>DistilBertForTokenClassification</c>, <c>ElectraForTokenClassification</c>):
/// one linear layer on every token's last hidden state, no pooler; dropout is inactive at inference.
/// <code>
/// logits = H W_clsᵀ + b_cls             [n, d] -> [n, labels]   (classifier)
/// </code>
/// </summary>
public sealed class TokenClassifier
{
    const string Weight = "classifier.weight", Bias = "classifier.bias";

    readonly ReadOnlyMemory<float> _weight, _bias;
    readonly int _hidden;

    /// <summary>Label names, index = class id (from <c>id2label</c>, else "LABEL_k").</summary>
    public IReadOnlyList<string> Labels { get; }

    TokenClassifier(ReadOnlyMemory<float> weight, ReadOnlyMemory<float> bias, int hidden, IReadOnlyList<string> labels)
    {
        _weight = weight;
        _bias = bias;
        _hidden = hidden;
        Labels = labels;
    }

    /// <summary>
    /// The head of a checkpoint, or null when it has none: no <c>classifier.weight</c> [labels, d], or config.json's
    /// <c>architectures</c> names a sequence classifier. BERT's and DistilBERT's sequence and token classifiers both
    /// store <c>classifier.weight</c> [labels, d] (the sequence head adds a pooler / pre_classifier), so without
    /// <c>architectures</c> the checkpoint is ambiguous and both heads load: <c>classify</c> runs the one, <c>tag</c>
    /// the other; when <c>architectures</c> names one of them, the other is not read.
    /// </summary>
    /// <exception cref="ModelFormatException">the bias is missing or mis-shaped, or id2label disagrees with the weight.</exception>
    public static TokenClassifier? TryLoad(WeightNames names, EncoderConfig config)
    {
        if (!names.Contains(Weight) || config.DeclaresArchitecture("ForSequenceClassification")) return null;
        int d = config.HiddenSize;
        int labels = names.Rows(Weight);
        return new TokenClassifier(names.Get(Weight, labels, d), names.Get(Bias, labels), d, LabelNames.Of(config, labels, Weight));
    }

    /// <summary>Why a checkpoint has no token-classification head: it lacks <c>classifier.weight</c>, or config.json's
    /// <c>architectures</c> says its classifier is a sequence classifier's.</summary>
    public static string Absence(WeightNames names, EncoderConfig config) =>
        names.Contains(Weight)
            ? $"tag: {Path.GetDirectoryName(names.Path)} is a sequence classifier (architectures: {string.Join(", ", config.Architectures)}); " +
              "tag needs a token-classification head"
            : $"{names.Path}: the checkpoint has no token-classification head: missing '{Weight}' " +
              $"(the *ForTokenClassification head is one linear layer '{Weight}' [labels, {config.HiddenSize}] on every token)";

    /// <summary>Labels every token of one text from its last hidden state [n, d].</summary>
    /// <returns>logits [n, labels] and the argmax label per token.</returns>
    public TokenClassification Classify(Tensor lastHiddenState)
    {
        int n = lastHiddenState.Shape[0], k = Labels.Count;
        // logits = H W_clsᵀ + b_cls                                                      [n, labels]
        var logits = new Tensor(Dense.Forward(lastHiddenState.Data, n, _weight, _bias, k, _hidden), n, k);
        var ids = new int[n];
        for (int t = 0; t < n; t++) ids[t] = TensorPrimitives.IndexOfMax(logits.Row(t));
        return new TokenClassification(logits, ids, ids.Select(id => Labels[id]).ToArray());
    }
}
