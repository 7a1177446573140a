using System.Numerics.Tensors;
using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Engine.Heads;

/// <summary>A classifier's output for one text: logits [labels], softmax probabilities [labels], the argmax label.</summary>
public sealed record Classification(float[] Logits, float[] Probs, int LabelId, string Label);

/// <summary>
/// The sequence-classification head of HF <c>BertForSequenceClassification</c> (Devlin et al. 2019, §4.1):
/// <code>
/// pooled = tanh(h_[CLS] W_poolᵀ + b_pool)          [d]      (bert.pooler.dense)
/// logits = pooled W_clsᵀ + b_cls                    [labels] (classifier)
/// </code>
/// Dropout is inactive at inference.
/// </summary>
public sealed class SequenceClassifier
{
    readonly ReadOnlyMemory<float> _poolerWeight, _poolerBias, _classifierWeight, _classifierBias;
    readonly int _hidden;

    /// <summary>Label names, index = class id (from <c>id2label</c>, else "LABEL_k" as HF names them).</summary>
    public IReadOnlyList<string> Labels { get; }

    SequenceClassifier(ReadOnlyMemory<float> poolerWeight, ReadOnlyMemory<float> poolerBias,
        ReadOnlyMemory<float> classifierWeight, ReadOnlyMemory<float> classifierBias, int hidden, IReadOnlyList<string> labels)
    {
        _poolerWeight = poolerWeight;
        _poolerBias = poolerBias;
        _classifierWeight = classifierWeight;
        _classifierBias = classifierBias;
        _hidden = hidden;
        Labels = labels;
    }

    /// <summary>The head of a checkpoint, or null when it has no <c>classifier.weight</c> with a pooler.</summary>
    /// <exception cref="ModelFormatException">the head's weights are mis-shaped, or id2label disagrees with them.</exception>
    public static SequenceClassifier? TryLoad(WeightNames names, EncoderConfig config)
    {
        if (!names.Contains("classifier.weight") || !names.Contains("pooler.dense.weight")) return null;
        int d = config.HiddenSize;
        int labels = names.Rows("classifier.weight");
        if (config.Id2Label.Count != 0 && config.Id2Label.Count != labels)
            throw new ModelFormatException($"config.json id2label has {config.Id2Label.Count} labels but classifier.weight has {labels} rows");
        var names2 = config.Id2Label.Count != 0 ? config.Id2Label : Enumerable.Range(0, labels).Select(k => $"LABEL_{k}").ToArray();
        return new SequenceClassifier(
            names.Get("pooler.dense.weight", d, d), names.Get("pooler.dense.bias", d),
            names.Get("classifier.weight", labels, d), names.Get("classifier.bias", labels), d, names2);
    }

    /// <summary>Classifies one text from its last hidden state [n, d] (the [CLS] row is used).</summary>
    public Classification Classify(Tensor lastHiddenState)
    {
        var cls = lastHiddenState.Row(0);
        // pooled = tanh(h_[CLS] W_poolᵀ + b_pool)
        var pooled = new float[_hidden];
        Gemm.MatMulNT(cls, _hidden, _poolerWeight.Span, _hidden, pooled, _hidden, 1, _hidden, _hidden, _poolerBias.Span, parallel: false);
        TensorPrimitives.Tanh(pooled, pooled);
        // logits = pooled W_clsᵀ + b_cls
        int labels = Labels.Count;
        var logits = new float[labels];
        Gemm.MatMulNT(pooled, _hidden, _classifierWeight.Span, _hidden, logits, labels, 1, labels, _hidden, _classifierBias.Span, parallel: false);
        var probs = (float[])logits.Clone();
        Softmax.Rows(probs, 1, labels);
        int best = TensorPrimitives.IndexOfMax(logits);
        return new Classification(logits, probs, best, Labels[best]);
    }
}
