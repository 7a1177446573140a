using System.Text.Json;
using System.Text.Json.Nodes;
using MixLens.Analysis;
using MixLens.Analysis.Evaluation;
using MixLens.Engine;
using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Tests.Cli;
using MixLens.Tests.Heads;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Evaluation;

/// <summary>
/// Blank-out importances and AOPC follow the head's score function (HF text-classification pipeline default by
/// problem_type): sigmoid of the predicted label for a multi-label head, the probability of the decision z &gt; 0 for a
/// one-logit head, the raw output for regression (no accuracy). Synthetic RoBERTa heads (roberta-random's encoder);
/// the expected values are computed here from the head's equation in float64 on the engine's last hidden states.
/// </summary>
public class ScoreFunctionEvaluationTests
{
    const double Tolerance = 1e-5;
    const string Text = "The movie was long but good.";

    static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));

    /// <summary>The head's logits in float64 for a sequence of ids: tanh(h_0 W_1ᵀ + b_1) W_2ᵀ + b_2.</summary>
    static double[] Logits(SyntheticCheckpoint checkpoint, EncoderModel model, int[] ids, int[] typeIds)
    {
        var h0 = model.Encoder.Forward(new EncoderInput(ids, typeIds)).LastHiddenState.Row(0);
        var pooled = ReferenceMath.Linear(checkpoint["classifier.dense.weight"], checkpoint["classifier.dense.bias"], ReferenceMath.ToDouble(h0))
            .Select(Math.Tanh).ToArray();
        return ReferenceMath.Linear(checkpoint["classifier.out_proj.weight"], checkpoint["classifier.out_proj.bias"], pooled);
    }

    /// <summary>ids with position j replaced by the mask id.</summary>
    static int[] Masked(int[] ids, int mask, params int[] positions)
    {
        var variant = (int[])ids.Clone();
        foreach (int j in positions) variant[j] = mask;
        return variant;
    }

    /// <summary>
    /// BlankOut.Importances and Aopc.Compute through FaithfulnessEvaluation.ModelScore against p − p_j and p − p_k from
    /// <paramref name="score"/>(reference logits), with the prediction made on the original input.
    /// </summary>
    static void CheckImportancesAndAopc(SyntheticCheckpoint checkpoint, EncoderModel model, int expectedPredicted,
        Func<double[], double> score)
    {
        var encoding = model.Tokenize(Text);
        int mask = model.Tokenizer.MaskId!.Value;
        var positions = Enumerable.Range(0, encoding.Length).Where(j => encoding.SpecialTokensMask[j] == 0).ToArray();
        var logits = model.Classify([encoding])[0].Logits;
        var head = model.Classifier!;
        int predicted = PredictionScore.Predicted(logits, head.Function);
        Assert.Equal(expectedPredicted, predicted);
        double p = PredictionScore.Of(logits, predicted, head.Function);
        Assert.Equal(score(Logits(checkpoint, model, encoding.Ids, encoding.TypeIds)), p, Tolerance);

        var modelScore = FaithfulnessEvaluation.ModelScore(model, encoding.TypeIds, predicted);
        var importances = BlankOut.Importances(encoding.Ids, positions, mask, p, modelScore);
        for (int k = 0; k < positions.Length; k++)
        {
            double pj = score(Logits(checkpoint, model, Masked(encoding.Ids, mask, positions[k]), encoding.TypeIds));
            Assert.Equal(p - pj, importances[k], Tolerance);
        }

        // AOPC with the method scores m − k (a ranking by position): fraction 0.5 masks the first ⌈m/2⌉ positions.
        var methodScores = positions.Select((_, k) => (double)(positions.Length - k)).ToArray();
        var (aopc, drops) = Aopc.Compute(encoding.Ids, positions, methodScores, mask, p, modelScore);
        var expectedDrops = Aopc.DefaultFractions.Select(f =>
            p - score(Logits(checkpoint, model, Masked(encoding.Ids, mask, positions.Take(Aopc.Count(f, positions.Length)).ToArray()), encoding.TypeIds)))
            .ToArray();
        for (int f = 0; f < drops.Length; f++) Assert.Equal(expectedDrops[f], drops[f], Tolerance);
        Assert.Equal(expectedDrops.Average(), aopc, Tolerance);
    }

    [Fact]
    public void Importances_MultiLabelHead_AreSigmoidOfThePredictedLabel()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(3, seed: 51);
        using var model = EncoderModel.Load(checkpoint.Write("roberta.", c => c["problem_type"] = "multi_label_classification"));
        Assert.Equal(ScoreFunction.Sigmoid, model.Classifier!.Function);
        var reference = Logits(checkpoint, model, model.Tokenize(Text).Ids, model.Tokenize(Text).TypeIds);
        int top = Array.IndexOf(reference, reference.Max());
        CheckImportancesAndAopc(checkpoint, model, top, z => Sigmoid(z[top]));
    }

    [Theory]
    [InlineData(52, 0)] // z < 0: negative
    [InlineData(53, 1)] // z > 0: positive
    public void Importances_OneLogitHead_AreTheProbabilityOfTheDecision(int seed, int decision)
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(1, seed);
        using var model = EncoderModel.Load(checkpoint.Write("roberta.", c => c.Remove("id2label")));
        Assert.Equal(ScoreFunction.Sigmoid, model.Classifier!.Function);
        double z = Logits(checkpoint, model, model.Tokenize(Text).Ids, model.Tokenize(Text).TypeIds)[0];
        Assert.Equal(decision, z > 0 ? 1 : 0);
        // positive (1) scored σ(z), negative (0) scored 1 − σ(z), on every variant alike
        CheckImportancesAndAopc(checkpoint, model, decision, l => decision == 1 ? Sigmoid(l[0]) : 1 - Sigmoid(l[0]));
    }

    [Fact]
    public void Importances_RegressionHead_AreDifferencesOfTheRawOutput()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(1, seed: 55);
        using var model = EncoderModel.Load(checkpoint.Write("roberta.", c => c["problem_type"] = "regression"));
        Assert.Equal(ScoreFunction.None, model.Classifier!.Function);
        CheckImportancesAndAopc(checkpoint, model, 0, y => y[0]);
    }

    [Fact]
    public void PredictionScore_HandValues()
    {
        float[] two = [1f, 3f];
        Assert.Equal(1, PredictionScore.Predicted(two, ScoreFunction.Softmax));
        Assert.Equal(Math.Exp(3) / (Math.Exp(1) + Math.Exp(3)), PredictionScore.Of(two, 1, ScoreFunction.Softmax), 12);
        Assert.Equal(Sigmoid(3), PredictionScore.Of(two, 1, ScoreFunction.Sigmoid), 12);
        Assert.Equal(3.0, PredictionScore.Of(two, 1, ScoreFunction.None), 12);
        Assert.Equal(0, PredictionScore.Predicted([-0.5f], ScoreFunction.Sigmoid));
        Assert.Equal(Sigmoid(0.5), PredictionScore.Of([-0.5f], 0, ScoreFunction.Sigmoid), 12);
        Assert.Equal(Sigmoid(-0.5), PredictionScore.Of([-0.5f], 1, ScoreFunction.Sigmoid), 12);
        Assert.Equal(2, PredictionScore.Classes(1, ScoreFunction.Sigmoid));
        Assert.Equal(1, PredictionScore.Classes(1, ScoreFunction.None));
        Assert.Throws<ArgumentOutOfRangeException>(() => PredictionScore.Of([-0.5f], 2, ScoreFunction.Sigmoid));
    }

    static string Data(TempFolder dir)
    {
        string path = dir.File("data.tsv");
        File.WriteAllText(path, "sentence\tlabel\nThe movie was long but good .\t1\nA dull , lifeless film .\t0\nWhat a wonderful surprise it was .\t1\nok\t0\n");
        return path;
    }

    [Fact]
    public void Evaluate_RegressionHead_AccuracyIsAbsentAndScoresAreRawOutputs()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(1, seed: 56);
        string model = checkpoint.Write("roberta.", c => c["problem_type"] = "regression");
        using var dir = new TempFolder();
        string data = Data(dir), examples = dir.File("examples.jsonl");
        var json = CliHarness.RunOk("evaluate", "--model", model, "--data", data, "--methods", "attention", "--format", "json", "--per-example", examples);
        using var doc = JsonDocument.Parse(json.Stdout);
        var root = doc.RootElement;
        Assert.Equal("none", root.GetProperty("function").GetString());
        Assert.Equal(JsonValueKind.Null, root.GetProperty("accuracy").ValueKind);
        Assert.Equal(JsonValueKind.Null, root.GetProperty("correct").ValueKind);
        Assert.Equal(4, root.GetProperty("sentences").GetInt32());
        Assert.Equal(1, root.GetProperty("skipped_short").GetInt32());

        using var engine = EncoderModel.Load(model);
        foreach (var line in File.ReadAllLines(examples))
        {
            using var e = JsonDocument.Parse(line);
            var encoding = engine.Tokenize(e.RootElement.GetProperty("text").GetString()!);
            Assert.Equal(Logits(checkpoint, engine, encoding.Ids, encoding.TypeIds)[0], e.RootElement.GetProperty("p").GetDouble(), Tolerance);
        }

        var table = CliHarness.RunOk("evaluate", "--model", model, "--data", data, "--methods", "attention");
        Assert.StartsWith("Faithfulness on data.tsv (", table.StdoutLines[0]);
        Assert.Contains(": 4 sentences, accuracy n/a (regression), 1 skipped", table.StdoutLines[0]);

        // a regression data set's targets are decimals (STS-B style); they are read, not compared
        string decimals = dir.File("sts.tsv");
        File.WriteAllText(decimals, "sentence\tlabel\nThe movie was long but good .\t3.75\nA dull , lifeless film .\t0.5\n");
        var sts = CliHarness.RunOk("evaluate", "--model", model, "--data", decimals, "--methods", "attention", "--format", "json");
        using var stsDoc = JsonDocument.Parse(sts.Stdout);
        Assert.Equal(2, stsDoc.RootElement.GetProperty("sentences").GetInt32());
    }

    [Fact]
    public void Evaluate_ClassifierWithDecimalLabels_NamesTheLine()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(2, seed: 58);
        string model = checkpoint.Write("roberta.");
        using var dir = new TempFolder();
        string data = dir.File("sts.tsv");
        File.WriteAllText(data, "sentence\tlabel\nThe movie was long but good .\t3.75\n");
        var run = CliHarness.Run("evaluate", "--model", model, "--data", data, "--methods", "attention");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("line 2: the label '3.75' is not a class id", run.Stderr);
    }

    [Fact]
    public void Run_OneLogitHead_AccuracyCountsTheDecisionAgainstLabels0And1()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(1, seed: 57);
        using var model = EncoderModel.Load(checkpoint.Write("roberta.", c => c.Remove("id2label")));
        using var dir = new TempFolder();
        var sentences = LabeledTsv.Read(Data(dir));
        var examples = new List<ExampleEvaluation>();
        var result = FaithfulnessEvaluation.Run(model, sentences, new EvaluationOptions([MixingMethod.Attention]), perExample: examples.Add);
        Assert.Equal(ScoreFunction.Sigmoid, result.Function);
        int expectedCorrect = 0;
        foreach (var (sentence, example) in sentences.Zip(examples))
        {
            var encoding = model.Tokenize(sentence.Text);
            double z = Logits(checkpoint, model, encoding.Ids, encoding.TypeIds)[0];
            int decision = z > 0 ? 1 : 0;
            Assert.Equal(decision, example.Predicted);
            Assert.Equal(decision == 1 ? Sigmoid(z) : 1 - Sigmoid(z), example.Score, Tolerance);
            if (decision == sentence.Label) expectedCorrect++;
        }
        Assert.Equal(expectedCorrect, result.Correct);
        Assert.Equal((double)expectedCorrect / 4, result.Accuracy!.Value, 12);
    }

    [Fact]
    public void Run_OneLogitHead_GradientMethodsExplainTheLogitSignedByTheDecision()
    {
        // one logit z: the gradient methods explain z (the only output), and for the decision 0 the signed token maps
        // are those of −z
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(1, seed: 66);   // a head that decides both ways on Data
        using var model = EncoderModel.Load(checkpoint.Write("roberta.", c => c.Remove("id2label")));
        using var dir = new TempFolder();
        var sentences = LabeledTsv.Read(Data(dir));
        var examples = new List<ExampleEvaluation>();
        MixingMethod[] methods = [MixingMethod.Saliency, MixingMethod.IntegratedGradients, MixingMethod.Chefer];
        FaithfulnessEvaluation.Run(model, sentences, new EvaluationOptions(methods, Steps: 3), perExample: examples.Add);
        var decisions = new HashSet<int>();
        foreach (var (sentence, example) in sentences.Zip(examples))
        {
            if (example.NonSpecialTokens < 3) continue;
            decisions.Add(example.Predicted);
            var encoding = model.Tokenize(sentence.Text, truncate: true);
            var input = EncoderInput.From(encoding);
            var positions = Enumerable.Range(0, encoding.Length).Where(j => encoding.SpecialTokensMask[j] == 0).ToArray();
            var ig = MixingMethods.Compute(MixingMethod.IntegratedGradients, model.Encoder, input,
                gradients: GradientOptions.ForText(model, encoding, 0, 3));
            double sign = example.Predicted == 0 ? -1 : 1;
            var scores = new Dictionary<MixingMethod, double[]?> { [MixingMethod.IntegratedGradients] = positions.Select(j => sign * ig.Data[j]).ToArray() };
            var (_, rho, aopc) = FaithfulnessEvaluation.EvaluateSentence(encoding.Ids, positions, model.Tokenizer.MaskId!.Value, example.Score,
                FaithfulnessEvaluation.ModelScore(model, encoding.TypeIds, example.Predicted), scores);
            Assert.Equal(aopc[MixingMethod.IntegratedGradients], example.Aopc[MixingMethod.IntegratedGradients]);
            Assert.Equal(rho[MixingMethod.IntegratedGradients], example.Spearman[MixingMethod.IntegratedGradients]);
            Assert.NotNull(example.Aopc[MixingMethod.Saliency]);
            Assert.NotNull(example.Aopc[MixingMethod.Chefer]);
        }
        Assert.Equal([0, 1], decisions.Order());   // both decisions occur
    }
}
