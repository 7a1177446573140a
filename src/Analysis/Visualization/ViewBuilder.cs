using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;
using Encoding = MixLens.Engine.Tokenization.Encoding;

namespace MixLens.Analysis.Visualization;

/// <summary>
/// Runs one forward pass that captures what the views and every requested method need (query, key, probs, plus each
/// method's <see cref="MixingMethods.Requirements"/>), then computes the methods on that one trace.
/// </summary>
public static class ViewBuilder
{
    /// <summary>Builds the view data of one tokenized text.</summary>
    /// <param name="encoder">the encoder the text was tokenized for.</param>
    /// <param name="model">the short model name shown in the page.</param>
    /// <param name="encoding">the tokenized text (and pair).</param>
    /// <param name="text">the text; <paramref name="textPair"/> the pair text or null.</param>
    /// <param name="methods">the methods to compute, in display order (duplicates are an error).</param>
    /// <param name="flowAllLayers">flow only: every layer (true) or only the last one (false, other layers zero).</param>
    /// <param name="gradients">the gradient methods' classifier, special tokens, pad id, target and steps
    /// (<see cref="GradientOptions.ForText"/>; needed when a method explains a classifier's class).</param>
    /// <param name="progress">receives the fraction done, 0 to 1, each method weighted by its estimated time
    /// (<see cref="Cost.CostModel"/>) (null: none).</param>
    /// <exception cref="ArgumentException">a method is listed twice, or a gradient method lacks its options.</exception>
    /// <exception cref="EncoderInputException">the encoding cannot be fed to the model.</exception>
    public static ViewData Build(BertEncoder encoder, string model, Encoding encoding, string text, string? textPair,
        IReadOnlyList<MixingMethod> methods, bool flowAllLayers = true, GradientOptions? gradients = null,
        IProgress<double>? progress = null)
    {
        var duplicate = methods.GroupBy(m => m).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null) throw new ArgumentException($"method '{MixingMethods.NameOf(duplicate.Key)}' is listed twice", nameof(methods));

        var config = encoder.Config;
        int L = config.NumHiddenLayers, H = config.NumAttentionHeads, n = encoding.Length, d = config.HiddenSize;
        var input = EncoderInput.From(encoding);
        var trace = encoder.Forward(input, Request(L, methods)).Trace;

        var attention = new float[(long)L * H * n * n];
        var queries = new float[(long)L * n * d];
        var keys = new float[(long)L * n * d];
        for (int l = 0; l < L; l++)
        {
            Copy(trace[l, LayerStep.Probs], [H, n, n], attention, (long)l * H * n * n);
            Copy(trace[l, LayerStep.Query], [n, d], queries, (long)l * n * d);
            Copy(trace[l, LayerStep.Key], [n, d], keys, (long)l * n * d);
        }

        (int Id, string Label)? target = null;
        if (methods.Any(MixingMethods.NeedsClassifier) && gradients?.Classifier is { } classifier)
        {
            // the class explained: the one asked for, else the prediction (fixed here so that every method explains it)
            int c = gradients.Target ?? GradientOptions.PredictedClass(encoder, classifier, input);
            target = (c, classifier.Labels[c]);
            gradients = gradients with { Target = c };
        }
        // each method's share of the progress: its estimated seconds
        var seconds = progress is null || n == 0 ? methods.Select(_ => 1.0).ToArray()
            : methods.Select(m => Cost.CostModel.Estimate(m, config, n, new Cost.CostOptions(flowAllLayers, Steps: gradients?.Steps)).Seconds).ToArray();
        double total = seconds.Sum(), before = 0;
        var results = new MethodScores[methods.Count];
        for (int k = 0; k < methods.Count; k++)
        {
            var m = methods[k];
            var span = Cost.ProgressSpan.Of(progress, before / total, (before + seconds[k]) / total);
            results[k] = new MethodScores(MixingMethods.NameOf(m), MixingMethods.Describe(m),
                MixingMethods.Compute(m, encoder, input, trace, flowAllLayers: flowAllLayers, gradients: gradients, progress: span),
                Signed: m is MixingMethod.GradientXInput or MixingMethod.IntegratedGradients);
            before += seconds[k];
            span?.Report(1);
        }

        return new ViewData
        {
            Model = model,
            Text = text,
            TextPair = textPair,
            Tokens = encoding.Tokens,
            Segments = encoding.TypeIds.ToArray(),
            Layers = L,
            Heads = H,
            HeadSize = config.HeadDim,
            Attention = new Tensor(attention, L, H, n, n),
            Queries = new Tensor(queries, L, n, d),
            Keys = new Tensor(keys, L, n, d),
            Methods = results,
            Target = target,
        };
    }

    /// <summary>The union of the views' own tensors (query, key, scores, probs) and every method's requirements.</summary>
    static TraceRequest Request(int layers, IReadOnlyList<MixingMethod> methods)
    {
        var requests = methods.Select(MixingMethods.Requirements).ToArray();
        LayerStep[] own = [LayerStep.Query, LayerStep.Key, LayerStep.Probs];
        var names = new List<string>();
        if (requests.Any(r => r.WantsEmbeddings)) names.Add(TraceNames.EmbeddingsOutput);
        for (int l = 0; l < layers; l++)
            foreach (var step in Enum.GetValues<LayerStep>())
                if (own.Contains(step) || requests.Any(r => r.Wants(l, step)))
                    names.Add(TraceNames.Of(l, step));
        return TraceRequest.Names(layers, names);
    }

    static void Copy(Tensor source, int[] shape, float[] target, long offset)
    {
        if (!source.Shape.SequenceEqual(shape))
            throw new InvalidOperationException($"traced tensor has shape [{string.Join(", ", source.Shape)}], expected [{string.Join(", ", shape)}]");
        source.Data.AsSpan().CopyTo(target.AsSpan((int)offset, source.Length));
    }
}
