using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tokenization;
using MixLens.Engine.Tracing;

namespace MixLens.Analysis.Corpus;

/// <summary>What <see cref="CorpusAnalyzer"/> computes for each example.</summary>
/// <param name="Methods">the methods, in output order (no duplicates).</param>
/// <param name="Truncate">cut over-long inputs to the model's limit (else they are reported and skipped).</param>
/// <param name="FlowAllLayers">flow: every layer (true) or only the last (other layers left zero), as <c>analyze --flow-layers</c>.</param>
/// <param name="Steps">the steps of integrated-gradients and attattr (null: their defaults, 50 and 20).</param>
/// <param name="HtaMaxTokens">with hta among the methods, an example of more tokens is not analysed
/// (<see cref="EncoderInputException"/>: reported and skipped), hta's cost growing as n²·d.</param>
public sealed record CorpusAnalysisOptions(IReadOnlyList<MixingMethod> Methods, bool Truncate = false, bool FlowAllLayers = true,
    int? Steps = null, int HtaMaxTokens = HiddenTokenAttribution.DefaultMaxTokens);

/// <summary>One example's analyses: its tokens and, per method, the [L, n, n] scores (row i = output token, column j =
/// input token), or [n] for a token-vector method (<see cref="MixingMethods.IsTokenVector"/>).</summary>
/// <param name="Target">the class the gradient methods explain (the predicted class) and its label; null when no
/// method explains a classifier's class (<see cref="MixingMethods.NeedsClassifier"/>).</param>
public sealed record ExampleAnalysis(CorpusExample Example, Encoding Encoding, IReadOnlyList<(MixingMethod Method, Tensor Scores)> Scores,
    (int Id, string Label)? Target = null);

/// <summary>
/// The analyses of one corpus example: tokenization, one traced forward pass, then every requested method
/// (<see cref="MixingMethods.Compute"/>; a rollout reuses its base method's matrix, so Value Zeroing runs once for
/// value-zeroing and value-zeroing-rollout). The scores are those of <c>mixlens analyze</c> for the same text.
/// </summary>
public static class CorpusAnalyzer
{
    /// <summary>Analyses one example. The gradient methods explain the class the model predicts for it.</summary>
    /// <exception cref="EncoderInputException">the input is longer than the model's limit and <see cref="CorpusAnalysisOptions.Truncate"/>
    /// is off, or hta is among the methods and the input is longer than <see cref="CorpusAnalysisOptions.HtaMaxTokens"/>.</exception>
    /// <exception cref="TokenizerException">the tokenizer cannot encode the text.</exception>
    /// <exception cref="ModelFormatException">a method needs the sequence-classification head and the model has none.</exception>
    public static ExampleAnalysis Analyze(EncoderModel model, CorpusExample example, CorpusAnalysisOptions options)
    {
        var encoding = model.Tokenize(example.Text, example.TextPair, options.Truncate);
        if (options.Methods.Contains(MixingMethod.Hta) && encoding.Length > options.HtaMaxTokens)
            throw new EncoderInputException($"the input is {encoding.Length} tokens long, over hta's limit of {options.HtaMaxTokens} tokens " +
                $"(--hta-max-tokens; hta's cost grows as n²·d)");
        var input = EncoderInput.From(encoding);
        var request = options.Methods.Count == 1 ? MixingMethods.Requirements(options.Methods[0]) : TraceRequest.All;
        var (hidden, trace) = model.Encoder.Forward(input, request);
        (int Id, string Label)? target = null;
        if (options.Methods.Any(MixingMethods.NeedsClassifier))
        {
            var head = model.RequireClassifier();
            int c = ClassifierGradient.ResolveTarget(head, head.Classify(hidden).Logits, null);
            target = (c, head.Labels[c]);
        }
        var gradients = GradientOptions.ForText(model, encoding, target?.Id, options.Steps);
        return new ExampleAnalysis(example, encoding, ComputeAll(options.Methods, model.Encoder, input, trace, options.FlowAllLayers, gradients), target);
    }

    /// <summary>Every method of <paramref name="methods"/> on one traced text, each [L, n, n] (or [n]), in the given order.</summary>
    /// <param name="trace">a trace holding every method's <see cref="MixingMethods.Requirements"/>.</param>
    /// <param name="gradients">the gradient methods' options (null: none of them is among <paramref name="methods"/>).</param>
    public static IReadOnlyList<(MixingMethod Method, Tensor Scores)> ComputeAll(IReadOnlyList<MixingMethod> methods, BertEncoder encoder,
        EncoderInput input, Trace trace, bool flowAllLayers, GradientOptions? gradients = null)
    {
        var bases = new Dictionary<MixingMethod, Tensor>();
        return methods.Select(m => (m, MixingMethods.ComputeSharing(m, encoder, input, trace, bases, flowAllLayers, gradients))).ToList();
    }

    /// <summary>The fixture tensor name of a method's scores: <c>analysis.value_zeroing</c>, <c>analysis.chefer</c>, …,
    /// and for a token-vector method <c>gradient.saliency</c>, <c>gradient.gradient_x_input</c>,
    /// <c>gradient.integrated_gradients</c> (the gradient fixtures' names).</summary>
    public static string TensorName(MixingMethod method) =>
        (MixingMethods.IsTokenVector(method) ? "gradient." : "analysis.") + MixingMethods.NameOf(method).Replace('-', '_');
}
