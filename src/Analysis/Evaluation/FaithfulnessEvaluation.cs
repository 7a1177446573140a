using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Engine.Tracing;

namespace MixLens.Analysis.Evaluation;

/// <summary>Options of <see cref="FaithfulnessEvaluation"/>.</summary>
/// <param name="Methods">the methods to evaluate.</param>
/// <param name="FlowMaxTokens">flow is computed only for sentences of at most this many tokens (else skipped and counted).</param>
/// <param name="MinTokens">sentences with fewer non-special tokens are skipped (counted).</param>
/// <param name="MaxDegreeOfParallelism">sentences evaluated at once (null: one per core; 1: sequential). The result
/// does not depend on it.</param>
/// <param name="HtaMaxTokens">hta is computed only for sentences of at most this many tokens (else skipped and
/// counted, as flow).</param>
/// <param name="Steps">the steps of integrated-gradients and attattr (null: their defaults, 50 and 20).</param>
public sealed record EvaluationOptions(IReadOnlyList<MixingMethod> Methods, int FlowMaxTokens = 32, int MinTokens = 3,
    int? MaxDegreeOfParallelism = null, int HtaMaxTokens = HiddenTokenAttribution.DefaultMaxTokens, int? Steps = null);

/// <summary>One method's results over the data set.</summary>
public sealed class MethodEvaluation(MixingMethod method)
{
    public MixingMethod Method { get; } = method;
    public string Name => MixingMethods.NameOf(Method);
    /// <summary>The per-sentence Spearman ρ of the sentences where it is defined.</summary>
    public List<double> Spearman { get; } = [];
    /// <summary>The per-sentence AOPC.</summary>
    public List<double> Aopc { get; } = [];
    /// <summary>The per-sentence ERASER comprehensiveness (<see cref="Eraser"/>; higher = more faithful), one per
    /// sentence with an AOPC.</summary>
    public List<double> Comprehensiveness { get; } = [];
    /// <summary>The per-sentence ERASER sufficiency (<see cref="Eraser"/>; lower = more faithful), one per sentence
    /// with an AOPC.</summary>
    public List<double> Sufficiency { get; } = [];
    /// <summary>Sentences whose ρ is undefined (the method's scores or the blank-out importances constant).</summary>
    public int SkippedConstant { get; set; }
    /// <summary>Sentences over the length limit (flow and hta only).</summary>
    public int SkippedTooLong { get; set; }

    public double SpearmanMean => Mean(Spearman);
    /// <summary>Population standard deviation (ddof = 0, as numpy's std) of the per-sentence ρ.</summary>
    public double SpearmanSd => Sd(Spearman);
    public double AopcMean => Mean(Aopc);
    public double ComprehensivenessMean => Mean(Comprehensiveness);
    public double SufficiencyMean => Mean(Sufficiency);

    static double Mean(List<double> v) => v.Count == 0 ? double.NaN : v.Average();
    static double Sd(List<double> v)
    {
        if (v.Count == 0) return double.NaN;
        double m = v.Average();
        return Math.Sqrt(v.Sum(x => (x - m) * (x - m)) / v.Count);
    }
}

/// <summary>
/// One sentence's results (for per-example output). <paramref name="Predicted"/> and <paramref name="Score"/>: the
/// prediction and its score (<see cref="PredictionScore"/>). All dictionaries are empty when the sentence has too few
/// non-special tokens (<see cref="EvaluationOptions.MinTokens"/>); otherwise they hold every method, with null in
/// <paramref name="Aopc"/>, <paramref name="Comprehensiveness"/> and <paramref name="Sufficiency"/> (and
/// <paramref name="Spearman"/>) for a method skipped as too long (flow, hta), and null in <paramref name="Spearman"/> alone
/// where ρ is undefined (constant scores or importances). <paramref name="Comprehensiveness"/> and
/// <paramref name="Sufficiency"/>: ERASER's (<see cref="Eraser"/>).
/// </summary>
public sealed record ExampleEvaluation(LabeledSentence Sentence, int Predicted, double Score, int NonSpecialTokens,
    IReadOnlyDictionary<MixingMethod, double?> Spearman, IReadOnlyDictionary<MixingMethod, double?> Aopc,
    IReadOnlyDictionary<MixingMethod, double?> Comprehensiveness, IReadOnlyDictionary<MixingMethod, double?> Sufficiency);

/// <summary>The whole evaluation.</summary>
public sealed class EvaluationResult
{
    /// <summary>Sentences evaluated (all read, including those skipped as too short).</summary>
    public int Sentences { get; set; }
    /// <summary>How the head's logits become the score the metrics watch (<see cref="PredictionScore"/>).</summary>
    public ScoreFunction Function { get; init; }
    /// <summary>Sentences whose prediction equals their label; null for a regression head (no classes).</summary>
    public int? Correct { get; set; }
    /// <summary><see cref="Correct"/> / <see cref="Sentences"/>; null for a regression head, whose output is not a
    /// class, NaN when there are no sentences.</summary>
    public double? Accuracy => Correct is int c ? Sentences == 0 ? double.NaN : (double)c / Sentences : null;
    /// <summary>Sentences with fewer than <see cref="EvaluationOptions.MinTokens"/> non-special tokens (no metric computed).</summary>
    public int SkippedShort { get; set; }
    public required IReadOnlyList<MethodEvaluation> Methods { get; init; }
}

/// <summary>
/// Faithfulness of context-mixing methods to a sequence classifier, the protocol of Mohebbi et al. 2023 ("Quantifying
/// Context Mixing in Transformers", arXiv:2301.12971): per sentence, the [CLS] row of each method's last-layer matrix
/// (a token-vector method: the vector itself, signed scores as they are) over the non-special tokens is compared with the blank-out importances (<see cref="BlankOut"/>) by Spearman's ρ
/// (<see cref="Spearman"/>), by AOPC (<see cref="Evaluation.Aopc"/>; Samek et al. 2017, arXiv:1509.06321; DeYoung
/// et al. 2020, arXiv:1911.03429), and by ERASER's comprehensiveness and sufficiency (<see cref="Eraser"/>; DeYoung et
/// al. 2020, as ferret reports them); means (and ρ's standard deviation) over the data set, plus the model's accuracy.
/// All metrics watch the score of the prediction made on the original sentence, by the head's problem_type
/// (<see cref="PredictionScore"/>): softmax probability, sigmoid probability, or a regression head's raw output (whose
/// accuracy is then absent).
/// </summary>
public static class FaithfulnessEvaluation
{
    /// <summary>The methods evaluated by default: every method but flow and hta, whose cost grows fast with n (they
    /// are evaluated when named in --methods, up to their token limits), in the order of <see cref="MixingMethods.Names"/>.</summary>
    public static IReadOnlyList<MixingMethod> DefaultMethods { get; } = MixingMethods.Names
        .Select(name => MixingMethods.TryParse(name, out var m) ? m : throw new InvalidOperationException(name))
        .Where(m => m is not (MixingMethod.Flow or MixingMethod.Hta)).ToArray();

    /// <summary>
    /// The metrics of one sentence given its method scores, without a model: <paramref name="score"/> answers
    /// for the prediction made on the original input, whose score is <paramref name="p"/>.
    /// </summary>
    /// <param name="scores">per method, the score of each position in <paramref name="positions"/> (null: method skipped).</param>
    public static (double[] Importances, Dictionary<MixingMethod, double?> Spearman, Dictionary<MixingMethod, double?> Aopc) EvaluateSentence(
        int[] ids, IReadOnlyList<int> positions, int maskId, double p, ClassScore score,
        IReadOnlyDictionary<MixingMethod, double[]?> scores)
    {
        var importances = BlankOut.Importances(ids, positions, maskId, p, score);
        var rho = new Dictionary<MixingMethod, double?>();
        var aopc = new Dictionary<MixingMethod, double?>();
        foreach (var (method, s) in scores)
        {
            if (s is null)
            {
                rho[method] = null;
                aopc[method] = null;
                continue;
            }
            rho[method] = Spearman.Correlation(s, importances);
            aopc[method] = Aopc.Compute(ids, positions, s, maskId, p, score).Aopc;
        }
        return (importances, rho, aopc);
    }

    /// <summary>
    /// Runs the evaluation of <paramref name="sentences"/> on <paramref name="model"/>, up to
    /// <see cref="EvaluationOptions.MaxDegreeOfParallelism"/> sentences at once. Each sentence is computed on its own
    /// (its forward passes and analyses do not depend on the others, and every kernel sums in a fixed order), and the
    /// results are folded into the totals strictly in input order, so the result, the per-example callbacks and their
    /// order are identical to a sequential run (<c>MaxDegreeOfParallelism = 1</c>).
    /// </summary>
    /// <param name="progress">called after each sentence with (done, total), in order, never concurrently.</param>
    /// <param name="perExample">called with each sentence's results, in input order, never concurrently.</param>
    /// <exception cref="ModelFormatException">the model has no classification head or its tokenizer no [MASK].</exception>
    public static EvaluationResult Run(EncoderModel model, IReadOnlyList<LabeledSentence> sentences, EvaluationOptions options,
        Action<int, int>? progress = null, Action<ExampleEvaluation>? perExample = null)
    {
        var head = model.RequireClassifier();
        if (model.Tokenizer.MaskId is null) throw new ModelFormatException($"{model.Name}: the tokenizer has no [MASK] token");
        if (options.MaxDegreeOfParallelism is < 1)
            throw new ArgumentOutOfRangeException(nameof(options), $"MaxDegreeOfParallelism must be at least 1, not {options.MaxDegreeOfParallelism}");
        var result = new EvaluationResult
        {
            Methods = options.Methods.Select(m => new MethodEvaluation(m)).ToArray(),
            Function = head.Function,
            Correct = head.Function == ScoreFunction.None ? null : 0,
        };

        // Sentences taken in order by the workers, folded strictly in input order (Corpus.OrderedParallel).
        Corpus.OrderedParallel.Run(sentences, sentence => EvaluateOne(model, sentence, options), (index, example) =>
        {
            Accumulate(result, example, options.MinTokens);
            perExample?.Invoke(example);
            progress?.Invoke(index + 1, sentences.Count);
        }, options.MaxDegreeOfParallelism ?? Environment.ProcessorCount);
        return result;
    }

    /// <summary>Folds one sentence into the totals: what was skipped is read off its results (too short: fewer
    /// than <paramref name="minTokens"/> non-special tokens; too long: a null AOPC).</summary>
    static void Accumulate(EvaluationResult result, ExampleEvaluation e, int minTokens)
    {
        result.Sentences++;
        if (result.Correct is int correct && e.Predicted == e.Sentence.Label) result.Correct = correct + 1;
        if (e.NonSpecialTokens < minTokens)
        {
            result.SkippedShort++;
            return;
        }
        foreach (var m in result.Methods)
        {
            if (e.Aopc[m.Method] is not double aopc)
            {
                m.SkippedTooLong++;
                continue;
            }
            if (e.Spearman[m.Method] is double r) m.Spearman.Add(r);
            else m.SkippedConstant++;
            m.Aopc.Add(aopc);
            m.Comprehensiveness.Add(e.Comprehensiveness[m.Method]!.Value);
            m.Sufficiency.Add(e.Sufficiency[m.Method]!.Value);
        }
    }

    static readonly int[] ClsRow = [0];

    /// <summary>Forward pass, prediction, method scores and metrics of one sentence (no shared state).</summary>
    static ExampleEvaluation EvaluateOne(EncoderModel model, LabeledSentence sentence, EvaluationOptions options)
    {
        var classifier = model.Classifier!;
        int maskId = model.Tokenizer.MaskId!.Value;
        var encoder = model.Encoder;
        int layers = encoder.Config.NumHiddenLayers;
        var encoding = model.Tokenize(sentence.Text, truncate: true);
        var input = EncoderInput.From(encoding);
        var (hidden, trace) = encoder.Forward(input, TraceRequest.All);
        var logits = classifier.Classify(hidden).Logits;
        int predicted = PredictionScore.Predicted(logits, classifier.Function);
        double p = PredictionScore.Of(logits, predicted, classifier.Function);

        var positions = Enumerable.Range(0, encoding.Length).Where(j => encoding.SpecialTokensMask[j] == 0).ToArray();
        if (positions.Length < options.MinTokens)
            return new ExampleEvaluation(sentence, predicted, p, positions.Length, new Dictionary<MixingMethod, double?>(),
                new Dictionary<MixingMethod, double?>(), new Dictionary<MixingMethod, double?>(), new Dictionary<MixingMethod, double?>());

        var scores = new Dictionary<MixingMethod, double[]?>();
        var bases = new Dictionary<MixingMethod, Tensor>();
        // The gradient methods explain the prediction the metrics watch. A one-logit sigmoid head decides class 1 (z > 0)
        // or 0 from its single logit z: they explain z, and for the decision 0 the signed token maps (gradient x input,
        // integrated gradients: linear in the explained output) are negated, the attributions of −z.
        bool oneLogit = classifier.Labels.Count == 1;
        // attattr: only the last layer, the one the token map reads (its values do not depend on the other layers')
        var gradients = GradientOptions.ForText(model, encoding, oneLogit ? 0 : predicted, options.Steps) with { AttAttrAllLayers = false };
        double sign = oneLogit && classifier.Function == ScoreFunction.Sigmoid && predicted == 0 ? -1 : 1;
        foreach (var method in options.Methods)
        {
            if ((method == MixingMethod.Flow && encoding.Length > options.FlowMaxTokens) ||
                (method == MixingMethod.Hta && encoding.Length > options.HtaMaxTokens))
            {
                scores[method] = null; // too long: null in both metrics
                continue;
            }
            // flow: only the [CLS] row of the last layer, the one read below (1/n of the whole flow's cost)
            var result = MixingMethods.ComputeSharing(method, encoder, input, trace, bases, flowAllLayers: false, gradients: gradients,
                rows: ClsRow);
            // token map: a token-vector method's own scores, else row 0 ([CLS]) of the last layer
            scores[method] = method is MixingMethod.GradientXInput or MixingMethod.IntegratedGradients
                ? positions.Select(j => sign * result.Data[j]).ToArray()
                : MixingMethods.IsTokenVector(method)
                    ? positions.Select(j => (double)result.Data[j]).ToArray()
                    : positions.Select(j => (double)result[layers - 1, 0, j]).ToArray();
        }
        // Blank-out, AOPC and ERASER ask for their perturbed copies through a score function: recorded first, then run
        // as packed batches, each distinct sequence once, then the metrics again from the cached scores.
        var forwards = new PerturbedForwards(ModelInputScore(model, predicted));
        EvaluateSentence(encoding.Ids, positions, maskId, p, forwards.RecordingIds(encoding.TypeIds), scores);
        EraserSentence(input, positions, p, forwards.Recording, scores);
        forwards.Run();
        var (_, rho, aopc) = EvaluateSentence(encoding.Ids, positions, maskId, p, forwards.CachedIds(encoding.TypeIds), scores);
        var (comprehensiveness, sufficiency) = EraserSentence(input, positions, p, forwards.Cached, scores);
        return new ExampleEvaluation(sentence, predicted, p, positions.Length, rho, aopc, comprehensiveness, sufficiency);
    }

    /// <summary>
    /// ERASER's comprehensiveness and sufficiency (<see cref="Eraser"/>) of each method on one sentence, every method's
    /// variants in one batch through <paramref name="score"/>; null for a method skipped (null scores).
    /// </summary>
    /// <param name="scores">per method, the score of each position in <paramref name="positions"/> (null: method skipped).</param>
    public static (Dictionary<MixingMethod, double?> Comprehensiveness, Dictionary<MixingMethod, double?> Sufficiency) EraserSentence(
        EncoderInput input, IReadOnlyList<int> positions, double p, InputScore score, IReadOnlyDictionary<MixingMethod, double[]?> scores)
    {
        var evaluated = scores.Where(s => s.Value is not null).ToArray();
        var results = Eraser.Compute(input, positions, evaluated.Select(s => (IReadOnlyList<double>)s.Value!).ToArray(), p, score);
        var comprehensiveness = new Dictionary<MixingMethod, double?>();
        var sufficiency = new Dictionary<MixingMethod, double?>();
        foreach (var method in scores.Keys)
        {
            comprehensiveness[method] = null;
            sufficiency[method] = null;
        }
        for (int s = 0; s < evaluated.Length; s++)
        {
            comprehensiveness[evaluated[s].Key] = results[s].Comprehensiveness;
            sufficiency[evaluated[s].Key] = results[s].Sufficiency;
        }
        return (comprehensiveness, sufficiency);
    }

    /// <summary>The model as a <see cref="ClassScore"/>: the score of prediction <paramref name="predicted"/> by the
    /// head's function (<see cref="PredictionScore.Of"/>, float64 from the logits) for each variant, the whole batch in
    /// one forward pass.</summary>
    /// <exception cref="ModelFormatException">the model has no classification head.</exception>
    public static ClassScore ModelScore(EncoderModel model, int[] typeIds, int predicted)
    {
        var score = ModelInputScore(model, predicted);
        return batch => score(batch.Select(ids => new EncoderInput(ids, typeIds)).ToArray());
    }

    /// <summary>The model as an <see cref="InputScore"/> (inputs of any lengths, e.g. with tokens deleted): the score
    /// of prediction <paramref name="predicted"/> by the head's function for each input, the whole batch in one
    /// (packed) forward pass that computes the last layer at the first token only, the one the head reads
    /// (<see cref="BertEncoder.ForwardFirstTokens"/>; the same values as the full forward).</summary>
    /// <exception cref="ModelFormatException">the model has no classification head.</exception>
    public static InputScore ModelInputScore(EncoderModel model, int predicted)
    {
        var classifier = model.RequireClassifier();
        int d = model.Config.HiddenSize;
        return batch =>
        {
            var first = model.Encoder.ForwardFirstTokens(batch);                    // [B, d]
            var scores = new double[batch.Count];
            for (int s = 0; s < scores.Length; s++)
                scores[s] = PredictionScore.Of(classifier.Classify(new Tensor(first.Row(s).ToArray(), 1, d)).Logits, predicted, classifier.Function);
            return scores;
        };
    }

    /// <summary>Softmax in float64 (<see cref="PredictionScore.Softmax"/>).</summary>
    public static double[] Softmax(IReadOnlyList<float> logits) => PredictionScore.Softmax(logits);
}
