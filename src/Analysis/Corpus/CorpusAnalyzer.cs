using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tokenization;
using MixLens.Engine.Tracing;

namespace MixLens.Analysis.Corpus;

/// <summary>What <see cref="CorpusAnalyzer"/> computes for each example.</summary>
/// <param name="Methods">the methods, in output order (no duplicates).</param>
/// <param name="Truncate">cut over-long inputs to the model's limit (else they are reported and skipped).</param>
/// <param name="FlowAllLayers">flow: every layer (true) or only the last (other layers left zero), as <c>analyze --flow-layers</c>.</param>
public sealed record CorpusAnalysisOptions(IReadOnlyList<MixingMethod> Methods, bool Truncate = false, bool FlowAllLayers = true);

/// <summary>One example's analyses: its tokens and, per method, the [L, n, n] scores (row i = output token, column j = input token).</summary>
public sealed record ExampleAnalysis(CorpusExample Example, Encoding Encoding, IReadOnlyList<(MixingMethod Method, Tensor Scores)> Scores);

/// <summary>
/// The analyses of one corpus example: tokenization, one traced forward pass, then every requested method
/// (<see cref="MixingMethods.Compute"/>; a rollout reuses its base method's matrix, so Value Zeroing runs once for
/// value-zeroing and value-zeroing-rollout). The scores are those of <c>mixlens analyze</c> for the same text.
/// </summary>
public static class CorpusAnalyzer
{
    /// <summary>Analyses one example.</summary>
    /// <exception cref="EncoderInputException">the input is longer than the model's limit and <see cref="CorpusAnalysisOptions.Truncate"/> is off.</exception>
    /// <exception cref="TokenizerException">the tokenizer cannot encode the text.</exception>
    public static ExampleAnalysis Analyze(EncoderModel model, CorpusExample example, CorpusAnalysisOptions options)
    {
        var encoding = model.Tokenize(example.Text, example.TextPair, options.Truncate);
        var input = EncoderInput.From(encoding);
        var request = options.Methods.Count == 1 ? MixingMethods.Requirements(options.Methods[0]) : TraceRequest.All;
        var trace = model.Encoder.Forward(input, request).Trace;
        return new ExampleAnalysis(example, encoding, ComputeAll(options.Methods, model.Encoder, input, trace, options.FlowAllLayers));
    }

    /// <summary>Every method of <paramref name="methods"/> on one traced text, each [L, n, n], in the given order.</summary>
    /// <param name="trace">a trace holding every method's <see cref="MixingMethods.Requirements"/>.</param>
    public static IReadOnlyList<(MixingMethod Method, Tensor Scores)> ComputeAll(IReadOnlyList<MixingMethod> methods, BertEncoder encoder,
        EncoderInput input, Trace trace, bool flowAllLayers)
    {
        var bases = new Dictionary<MixingMethod, Tensor>();
        return methods.Select(m => (m, MixingMethods.ComputeSharing(m, encoder, input, trace, bases, flowAllLayers))).ToList();
    }

    /// <summary>The fixture tensor name of a method's scores, e.g. <c>analysis.value_zeroing</c>.</summary>
    public static string TensorName(MixingMethod method) => "analysis." + MixingMethods.NameOf(method).Replace('-', '_');
}
