using System.Numerics.Tensors;
using MixLens.Engine.Model;
using MixLens.Kernels;

namespace MixLens.Engine.Heads;

/// <summary>
/// How a sequence classifier's logits become scores, as HF's <c>TextClassificationPipeline</c> chooses by default
/// (transformers <c>pipelines/text_classification.py</c>, <c>postprocess</c>):
/// <c>problem_type</c> "regression" → <see cref="ScoreFunction.None"/>; "multi_label_classification" or one label →
/// <see cref="ScoreFunction.Sigmoid"/>; otherwise (single-label, two or more labels) → <see cref="ScoreFunction.Softmax"/>.
/// </summary>
public enum ScoreFunction
{
    /// <summary>softmax over the labels: one probability distribution.</summary>
    Softmax,
    /// <summary>σ(z) = 1 / (1 + e^(−z)) per label: independent probabilities (multi-label, or a single label).</summary>
    Sigmoid,
    /// <summary>the raw logits (regression).</summary>
    None,
}

/// <summary>
/// A classifier's output for one text: logits [labels], scores [labels] (the logits after <paramref name="Function"/>:
/// softmax or per-label sigmoid probabilities, or the logits themselves for regression), and the label with the
/// highest logit (label 0 for a one-output regression head).
/// </summary>
public sealed record Classification(float[] Logits, float[] Scores, int LabelId, string Label, ScoreFunction Function);

/// <summary>
/// The sequence-classification heads of the four families, one shape on the first token's last hidden state
/// h_0 [d] (<c>[CLS]</c> / <c>&lt;s&gt;</c>); dropout is inactive at inference:
/// <code>
/// pooled = act(h_0 W_1ᵀ + b_1)          [d]
/// logits = pooled W_2ᵀ + b_2            [labels]
///
/// HF class                              W_1                      act    W_2
/// BertForSequenceClassification         bert.pooler.dense        tanh   classifier           (Devlin et al. 2019, §4.1)
/// RobertaForSequenceClassification      classifier.dense         tanh   classifier.out_proj  (RobertaClassificationHead)
/// ElectraForSequenceClassification      classifier.dense         gelu   classifier.out_proj  (ElectraClassificationHead)
/// DistilBertForSequenceClassification   pre_classifier           ReLU   classifier
/// </code>
/// </summary>
public sealed class SequenceClassifier
{
    /// <summary>One family's names for the head.</summary>
    sealed record Layout(string HfClass, string Dense, HeadActivation Activation, string Output);

    static Layout For(ModelFamily family) => family switch
    {
        ModelFamily.Bert => new("BertForSequenceClassification", "pooler.dense", HeadActivation.Tanh, "classifier"),
        ModelFamily.Roberta => new("RobertaForSequenceClassification", "classifier.dense", HeadActivation.Tanh, "classifier.out_proj"),
        ModelFamily.Electra => new("ElectraForSequenceClassification", "classifier.dense", HeadActivation.Gelu, "classifier.out_proj"),
        ModelFamily.DistilBert => new("DistilBertForSequenceClassification", "pre_classifier", HeadActivation.Relu, "classifier"),
        _ => throw new ArgumentOutOfRangeException(nameof(family), family, "unknown model family"),
    };

    readonly ReadOnlyMemory<float> _denseWeight, _denseBias, _outputWeight, _outputBias;
    readonly HeadActivation _activation;
    readonly int _hidden;

    /// <summary>Label names, index = class id (from <c>id2label</c>, else "LABEL_k" as HF names them).</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The HF class whose head this is (e.g. <c>RobertaForSequenceClassification</c>).</summary>
    public string HfClass { get; }

    /// <summary>How the logits become scores (from config.json's <c>problem_type</c> and the number of labels, as
    /// HF's text-classification pipeline decides).</summary>
    public ScoreFunction Function { get; }

    SequenceClassifier(Layout layout, ReadOnlyMemory<float> denseWeight, ReadOnlyMemory<float> denseBias,
        ReadOnlyMemory<float> outputWeight, ReadOnlyMemory<float> outputBias, int hidden, IReadOnlyList<string> labels,
        ScoreFunction function)
    {
        HfClass = layout.HfClass;
        Function = function;
        _activation = layout.Activation;
        _denseWeight = denseWeight;
        _denseBias = denseBias;
        _outputWeight = outputWeight;
        _outputBias = outputBias;
        _hidden = hidden;
        Labels = labels;
    }

    /// <summary>
    /// The head of a checkpoint, or null when it has none (its W_1 or W_2 weight is absent, or config.json's
    /// <c>architectures</c> declares a token classifier). Without <c>architectures</c>, a BERT or DistilBERT
    /// checkpoint whose <c>classifier.weight</c> could also be a token classifier's loads both heads
    /// (see <see cref="TokenClassifier.TryLoad"/>).
    /// </summary>
    /// <exception cref="ModelFormatException">the head's weights are mis-shaped or a bias is missing, or id2label
    /// disagrees with them.</exception>
    public static SequenceClassifier? TryLoad(WeightNames names, EncoderConfig config)
    {
        var layout = For(config.Family);
        if (config.DeclaresArchitecture("ForTokenClassification")) return null;
        if (!names.Contains(layout.Dense + ".weight") || !names.Contains(layout.Output + ".weight")) return null;
        int d = config.HiddenSize;
        int labels = names.Rows(layout.Output + ".weight");
        return new SequenceClassifier(layout,
            names.Get(layout.Dense + ".weight", d, d), names.Get(layout.Dense + ".bias", d),
            names.Get(layout.Output + ".weight", labels, d), names.Get(layout.Output + ".bias", labels), d,
            LabelNames.Of(config, labels, layout.Output + ".weight"), FunctionOf(config.ProblemType, labels));
    }

    /// <summary>HF's default <c>function_to_apply</c>: none for regression, sigmoid for multi-label or one label,
    /// else softmax.</summary>
    public static ScoreFunction FunctionOf(string? problemType, int labels) =>
        problemType == "regression" ? ScoreFunction.None
        : problemType == "multi_label_classification" || labels == 1 ? ScoreFunction.Sigmoid
        : ScoreFunction.Softmax;

    /// <summary>Why a checkpoint has no sequence-classification head: the tensors of its family's head it lacks, or
    /// (all present) config.json's <c>architectures</c> naming a token classifier.</summary>
    public static string Absence(WeightNames names, EncoderConfig config)
    {
        var layout = For(config.Family);
        var missing = names.Missing(layout.Dense + ".weight", layout.Output + ".weight");
        string what = $"the {layout.HfClass} head is '{layout.Dense}' + {layout.Activation.ToString().ToLowerInvariant()} + '{layout.Output}' on the first token";
        return missing.Count > 0
            ? $"{names.Path}: the checkpoint has no sequence-classification head: missing {string.Join(", ", missing.Select(m => $"'{m}'"))} ({what})"
            : $"classify: {Path.GetDirectoryName(names.Path)} is a token classifier (architectures: {string.Join(", ", config.Architectures)}); " +
              "classify needs a sequence-classification head";
    }

    /// <summary>
    /// The backward of the head: ∂ℓ/∂h_0 [d] from ∂ℓ/∂logits [labels], at the text's last hidden state [n, d]:
    /// <code>
    /// logits = pooled W_2ᵀ + b_2        →  dpooled = dlogits W_2                  [d]
    /// pooled = act(u), u = h_0 W_1ᵀ + b_1 →  du = dpooled ⊙ act′(u),  dh_0 = du W_1  [d]
    /// </code>
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="dLogits"/> does not have one entry per label.</exception>
    public float[] Backward(Tensor lastHiddenState, ReadOnlySpan<float> dLogits)
    {
        if (dLogits.Length != Labels.Count)
            throw new ArgumentException($"{dLogits.Length} logit gradients for {Labels.Count} labels", nameof(dLogits));
        var first = lastHiddenState.Row(0);
        var u = Dense.Forward(first, 1, _denseWeight, _denseBias, _hidden, _hidden);
        var dPooled = new float[_hidden];
        Gemm.MatMulNN(dLogits, Labels.Count, _outputWeight.Span, _hidden, dPooled, _hidden, 1, _hidden, Labels.Count);
        _activation.MultiplyByDerivative(u, dPooled);
        var dFirst = new float[_hidden];
        Gemm.MatMulNN(dPooled, _hidden, _denseWeight.Span, _hidden, dFirst, _hidden, 1, _hidden, _hidden);
        return dFirst;
    }

    /// <summary>Classifies one text from its last hidden state [n, d] (the first row is used): logits, scores by
    /// <see cref="Function"/>, and the argmax label.</summary>
    public Classification Classify(Tensor lastHiddenState)
    {
        var first = lastHiddenState.Row(0);
        // pooled = act(h_0 W_1ᵀ + b_1)                                                   [d]
        var pooled = Dense.Forward(first, 1, _denseWeight, _denseBias, _hidden, _hidden);
        _activation.Apply(pooled);
        // logits = pooled W_2ᵀ + b_2                                                     [labels]
        var logits = Dense.Forward(pooled, 1, _outputWeight, _outputBias, Labels.Count, _hidden);
        var scores = (float[])logits.Clone();
        switch (Function)
        {
            case ScoreFunction.Softmax: Softmax.Rows(scores, 1, Labels.Count); break;
            // σ(z) = 1 / (1 + e^(−z)), per label
            case ScoreFunction.Sigmoid: TensorPrimitives.Sigmoid(scores, scores); break;
        }
        int best = TensorPrimitives.IndexOfMax(logits);
        return new Classification(logits, scores, best, Labels[best], Function);
    }
}
