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
    /// The head of a checkpoint, or null when it has none: no <c>classifier.weight</c> [labels, d], or the checkpoint's
    /// classifier is a sequence classifier's (<paramref name="sequenceHead"/> loaded, or config.json's
    /// <c>architectures</c> declares one) — BERT's sequence and token classifiers share the name <c>classifier</c>, and
    /// only the pooler (or <c>architectures</c>) tells them apart.
    /// </summary>
    /// <exception cref="ModelFormatException">the bias is missing or mis-shaped, or id2label disagrees with the weight.</exception>
    public static TokenClassifier? TryLoad(WeightNames names, EncoderConfig config, SequenceClassifier? sequenceHead)
    {
        bool declared = config.DeclaresArchitecture("ForTokenClassification");
        bool otherHead = sequenceHead is not null || config.DeclaresArchitecture("ForSequenceClassification");
        if (!names.Contains(Weight) || (otherHead && !declared)) return null;
        int d = config.HiddenSize;
        int labels = names.Rows(Weight);
        return new TokenClassifier(names.Get(Weight, labels, d), names.Get(Bias, labels), d, LabelNames.Of(config, labels, Weight));
    }

    /// <summary>Why a checkpoint has no token-classification head.</summary>
    public static string Absence(WeightNames names, EncoderConfig config, SequenceClassifier? sequenceHead) =>
        names.Contains(Weight)
            ? $"{names.Path}: the checkpoint has no token-classification head: its '{Weight}' belongs to a sequence-classification head" +
              (sequenceHead is not null ? $" ({sequenceHead.HfClass}); use classify" : "")
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
