using System.Text.Json;
using MixLens.Tests.Cli;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Evaluation;

/// <summary><c>mixlens evaluate</c> end to end on the first sentences of SST-2 dev, and its one-line errors.</summary>
public class EvaluateCommandTests
{
    static string Model => SharedData.Models("minilm-l6-sst2");
    static string Data => Path.Combine(SharedData.Root, "data", "sst2-dev.tsv");

    static readonly string[] Defaults =
        ["attention", "rollout", "value-zeroing", "value-zeroing-rollout", "attention-norm", "alti", "alti-rollout", "globenc", "globenc-rollout",
         "saliency", "gradient-x-input", "integrated-gradients", "attattr", "chefer", "attention-norm-res-ln"];

    [Fact]
    public void Evaluate_Limit20Json_StructureRangesAndCountsAddUp()
    {
        // default methods (every method but flow and hta); --steps 4: the structure, not the integrals, is under test
        var result = CliHarness.RunOk("evaluate", "--model", Model, "--data", Data, "--limit", "20", "--format", "json", "--steps", "4");
        using var doc = JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.Equal("minilm-l6-sst2", root.GetProperty("model").GetString());
        int sentences = root.GetProperty("sentences").GetInt32();
        Assert.Equal(20, sentences);
        int correct = root.GetProperty("correct").GetInt32();
        Assert.Equal((double)correct / sentences, root.GetProperty("accuracy").GetDouble(), 12);
        Assert.True(correct >= 15, $"accuracy {correct}/20 is far below the model's 89%");
        int skippedShort = root.GetProperty("skipped_short").GetInt32();
        var methods = root.GetProperty("methods");
        Assert.Equal(Defaults, methods.EnumerateObject().Select(p => p.Name));
        foreach (var m in methods.EnumerateObject())
        {
            var v = m.Value;
            int n = v.GetProperty("n").GetInt32();
            Assert.Equal(sentences - skippedShort, n + v.GetProperty("skipped_constant").GetInt32() + v.GetProperty("skipped_too_long").GetInt32());
            Assert.Equal(sentences - skippedShort - v.GetProperty("skipped_too_long").GetInt32(), v.GetProperty("aopc_n").GetInt32());
            Assert.True(n > 0, m.Name);
            Assert.InRange(v.GetProperty("spearman_mean").GetDouble(), -1.0, 1.0);
            Assert.InRange(v.GetProperty("spearman_sd").GetDouble(), 0.0, 1.0);
            Assert.InRange(v.GetProperty("aopc").GetDouble(), -1.0, 1.0);
        }
    }

    [Fact]
    public void Evaluate_FlowWithSmallLimit_SkipsLongSentencesAndWritesPerExample()
    {
        using var dir = new TempFolder();
        string perExample = dir.File("examples.jsonl"), csv = dir.File("results.csv");
        var result = CliHarness.RunOk("evaluate", "--model", Model, "--data", Data, "--limit", "6", "--methods", "attention,flow",
            "--flow-max-tokens", "12", "--format", "json", "--per-example", perExample, "--csv", csv);
        using var doc = JsonDocument.Parse(result.Stdout);
        var flow = doc.RootElement.GetProperty("methods").GetProperty("flow");
        var lines = File.ReadAllLines(perExample);
        Assert.Equal(6, lines.Length);
        int longOnes = lines.Count(l =>
        {
            using var e = JsonDocument.Parse(l);
            return e.RootElement.GetProperty("tokens").GetInt32() + 2 > 12;
        });
        Assert.Equal(longOnes, flow.GetProperty("skipped_too_long").GetInt32());
        var csvLines = File.ReadAllLines(csv);
        Assert.Equal(3, csvLines.Length);
        Assert.StartsWith("method,spearman_mean", csvLines[0]);
    }

    [Fact]
    public void Evaluate_Table_PrintsOneRowPerMethod()
    {
        var result = CliHarness.RunOk("evaluate", "--model", Model, "--data", Data, "--limit", "3", "--methods", "attention,rollout");
        var rows = result.StdoutLines.Where(l => l.StartsWith("| ") && !l.StartsWith("| method")).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.StartsWith("| attention |", rows[0]);
        Assert.Contains("accuracy", result.StdoutLines[0]);
    }

    [Fact]
    public void Evaluate_EraserColumns_PresentAndFiniteInJsonPerExampleCsvAndTable()
    {
        using var dir = new TempFolder();
        string perExample = dir.File("examples.jsonl"), csv = dir.File("results.csv");
        string[] chosen = ["attention", "alti"];
        var json = CliHarness.RunOk("evaluate", "--model", Model, "--data", Data, "--limit", "5", "--methods", string.Join(',', chosen),
            "--format", "json", "--per-example", perExample, "--csv", csv);
        using var doc = JsonDocument.Parse(json.Stdout);
        var methods = doc.RootElement.GetProperty("methods");

        // per sentence: every method, finite, a difference of two probabilities
        var lines = File.ReadAllLines(perExample).Select(l => JsonDocument.Parse(l)).ToArray();
        try
        {
            var evaluated = lines.Where(e => e.RootElement.GetProperty("tokens").GetInt32() >= 3).ToArray();
            Assert.NotEmpty(evaluated);
            foreach (string metric in new[] { "comprehensiveness", "sufficiency" })
                foreach (string name in chosen)
                {
                    var values = evaluated.Select(e => e.RootElement.GetProperty(metric).GetProperty(name).GetDouble()).ToArray();
                    Assert.All(values, v => Assert.InRange(v, -1.0, 1.0));
                    // the data set's value is their mean
                    double mean = methods.GetProperty(name).GetProperty(metric).GetDouble();
                    Assert.True(double.IsFinite(mean), $"{name} {metric}");
                    Assert.Equal(values.Average(), mean, 12);
                }
        }
        finally
        {
            foreach (var l in lines) l.Dispose();
        }

        var csvLines = File.ReadAllLines(csv);
        Assert.Equal("method,spearman_mean,spearman_sd,n,skipped_constant,skipped_too_long,aopc,aopc_n,comprehensiveness,sufficiency", csvLines[0]);
        foreach (var row in csvLines.Skip(1))
        {
            var cells = row.Split(',');
            Assert.Equal(10, cells.Length);
            Assert.True(double.IsFinite(double.Parse(cells[8], System.Globalization.CultureInfo.InvariantCulture)), row);
            Assert.True(double.IsFinite(double.Parse(cells[9], System.Globalization.CultureInfo.InvariantCulture)), row);
        }

        var table = CliHarness.RunOk("evaluate", "--model", Model, "--data", Data, "--limit", "5", "--methods", string.Join(',', chosen));
        var header = table.StdoutLines.Single(l => l.StartsWith("| method"));
        Assert.EndsWith("| AOPC | comprehensiveness ↑ | sufficiency ↓ |", header);
        var rows = table.StdoutLines.Where(l => l.StartsWith("| ") && !l.StartsWith("| method")).ToArray();
        Assert.Equal(chosen.Length, rows.Length);
        foreach (var row in rows)
        {
            var cells = row.Trim('|').Split('|').Select(c => c.Trim()).ToArray();
            Assert.Equal(8, cells.Length);
            foreach (var cell in cells[^3..])
                Assert.True(double.IsFinite(double.Parse(cell, System.Globalization.CultureInfo.InvariantCulture)), row);
        }
        Assert.Contains(table.StdoutLines, l => l.Contains("higher = better") && l.Contains("lower = better"));
    }

    [Fact]
    public void Evaluate_UnknownMethod_OneLineError() =>
        CliHarness.RunUserError("unknown method 'bogus'", "evaluate", "--model", Model, "--data", Data, "--methods", "attention,bogus");

    [Fact]
    public void Evaluate_MissingData_OneLineError() =>
        CliHarness.RunUserError("not found", "evaluate", "--model", Model, "--data", "/nonexistent/sst2.tsv");

    [Fact]
    public void Evaluate_ModelWithoutHead_OneLineError() =>
        CliHarness.RunUserError("no sequence-classification head", "evaluate", "--model", SharedData.Models("bert-mlm-random"), "--data", Data, "--limit", "2");

    [Fact]
    public void Evaluate_MalformedLine_NamesTheLine()
    {
        using var dir = new TempFolder();
        string path = dir.File("bad.tsv");
        File.WriteAllText(path, "sentence\tlabel\na fine film .\t1\nno label here\n");
        CliHarness.RunUserError("line 3", "evaluate", "--model", Model, "--data", path);
    }

    [Fact]
    public void Evaluate_ParallelJobs_IdenticalToSequential()
    {
        // Sentences finish out of order on several workers; the totals and per-example lines must still be exactly
        // those of the sequential run (folded in input order, every kernel summing in a fixed order).
        using var dir = new TempFolder();
        string seqExamples = dir.File("seq.jsonl"), parExamples = dir.File("par.jsonl");
        var sequential = CliHarness.RunOk("evaluate", "--model", Model, "--data", Data, "--limit", "12", "--format", "json",
            "--methods", "attention,rollout,value-zeroing,alti", "--jobs", "1", "--per-example", seqExamples);
        var parallel = CliHarness.RunOk("evaluate", "--model", Model, "--data", Data, "--limit", "12", "--format", "json",
            "--methods", "attention,rollout,value-zeroing,alti", "--jobs", "4", "--per-example", parExamples);
        Assert.Equal(sequential.Stdout, parallel.Stdout);
        var seqLines = File.ReadAllLines(seqExamples);
        Assert.Equal(12, seqLines.Length);
        Assert.Equal(seqLines, File.ReadAllLines(parExamples));
        // in input order: lines 2..13 of the TSV (line 1 is the header)
        var lineNumbers = seqLines.Select(l => { using var d = JsonDocument.Parse(l); return d.RootElement.GetProperty("line").GetInt32(); });
        Assert.Equal(Enumerable.Range(2, 12), lineNumbers);
    }

    [Fact]
    public void Evaluate_JobsZero_OneLineError() =>
        CliHarness.RunUserError("--jobs must be at least 1", "evaluate", "--model", Model, "--data", Data, "--jobs", "0");

    [Fact]
    public void Evaluate_UnknownFormat_OneLineError() =>
        CliHarness.RunUserError("unknown format", "evaluate", "--model", Model, "--data", Data, "--format", "xml");

    [Fact]
    public void Evaluate_DefaultMethods_EveryMethodButFlowAndHtaInTableOrder()
    {
        var expected = MixLens.Analysis.MixingMethods.Names.Where(n => n is not ("flow" or "hta")).ToArray();
        Assert.Equal(Defaults, expected);
        Assert.Equal(expected, MixLens.Analysis.Evaluation.FaithfulnessEvaluation.DefaultMethods.Select(MixLens.Analysis.MixingMethods.NameOf));
    }

    [Fact]
    public void Evaluate_GradientMethods_PerExampleMetricsEqualTheirTokenMapsFromCompute()
    {
        // per sentence: the token map of each gradient method (the vector itself; row 0 of the last layer for the
        // matrix methods), computed by MixingMethods.Compute for the predicted class, gives exactly the printed ρ and AOPC
        using var dir = new TempFolder();
        string perExample = dir.File("examples.jsonl");
        string[] chosen = ["saliency", "gradient-x-input", "integrated-gradients", "attattr", "chefer", "hta"];
        var result = CliHarness.RunOk("evaluate", "--model", Model, "--data", Data, "--limit", "3", "--methods", string.Join(',', chosen),
            "--steps", "4", "--hta-max-tokens", "9", "--format", "json", "--per-example", perExample);
        using var doc = JsonDocument.Parse(result.Stdout);
        var methods = doc.RootElement.GetProperty("methods");
        Assert.Equal(chosen, methods.EnumerateObject().Select(p => p.Name));

        using var model = MixLens.Engine.EncoderModel.Load(Model);
        var classifier = model.Classifier!;
        var sentences = MixLens.Analysis.Evaluation.LabeledTsv.Read(Data, 3, decimalLabels: false);
        var lines = File.ReadAllLines(perExample);
        int htaTooLong = 0, checkedSentences = 0;
        for (int s = 0; s < 3; s++)
        {
            using var e = JsonDocument.Parse(lines[s]);
            var encoding = model.Tokenize(sentences[s].Text, truncate: true);
            var input = MixLens.Engine.Model.EncoderInput.From(encoding);
            var logits = classifier.Classify(model.Encoder.Forward(input).LastHiddenState).Logits;
            int predicted = MixLens.Analysis.Evaluation.PredictionScore.Predicted(logits, classifier.Function);
            Assert.Equal(predicted, e.RootElement.GetProperty("predicted").GetInt32());
            double p = MixLens.Analysis.Evaluation.PredictionScore.Of(logits, predicted, classifier.Function);
            var positions = Enumerable.Range(0, encoding.Length).Where(j => encoding.SpecialTokensMask[j] == 0).ToArray();
            if (positions.Length < 3) continue;
            checkedSentences++;
            var gradients = MixLens.Analysis.GradientOptions.ForText(model, encoding, predicted, 4);
            var scores = new Dictionary<MixLens.Analysis.MixingMethod, double[]?>();
            foreach (var name in chosen)
            {
                Assert.True(MixLens.Analysis.MixingMethods.TryParse(name, out var m));
                if (m == MixLens.Analysis.MixingMethod.Hta && encoding.Length > 9)
                {
                    scores[m] = null;
                    htaTooLong++;
                    continue;
                }
                var t = MixLens.Analysis.MixingMethods.Compute(m, model.Encoder, input, gradients: gradients);
                int L = model.Config.NumHiddenLayers;
                scores[m] = MixLens.Analysis.MixingMethods.IsTokenVector(m)
                    ? positions.Select(j => (double)t.Data[j]).ToArray()
                    : positions.Select(j => (double)t[L - 1, 0, j]).ToArray();
            }
            var (_, rho, aopc) = MixLens.Analysis.Evaluation.FaithfulnessEvaluation.EvaluateSentence(encoding.Ids, positions,
                model.Tokenizer.MaskId!.Value, p, MixLens.Analysis.Evaluation.FaithfulnessEvaluation.ModelScore(model, encoding.TypeIds, predicted), scores);
            foreach (var (m, value) in aopc)
            {
                string name = MixLens.Analysis.MixingMethods.NameOf(m);
                var printed = e.RootElement.GetProperty("aopc").GetProperty(name);
                if (value is double a) Assert.Equal(a, printed.GetDouble());
                else Assert.Equal(JsonValueKind.Null, printed.ValueKind);
                var printedRho = e.RootElement.GetProperty("spearman").GetProperty(name);
                if (rho[m] is double r) Assert.Equal(r, printedRho.GetDouble());
                else Assert.Equal(JsonValueKind.Null, printedRho.ValueKind);
            }
        }
        Assert.True(checkedSentences > 0);
        Assert.Equal(htaTooLong, methods.GetProperty("hta").GetProperty("skipped_too_long").GetInt32());
        Assert.True(htaTooLong > 0, "no sentence was over --hta-max-tokens 9");
        Assert.Equal(0, methods.GetProperty("saliency").GetProperty("skipped_too_long").GetInt32());
    }

    [Fact]
    public void Evaluate_GradientMethodsTable_ListsTheTooLongLegend()
    {
        var result = CliHarness.RunOk("evaluate", "--model", Model, "--data", Data, "--limit", "3", "--methods", "saliency,integrated-gradients",
            "--steps", "4");
        var rows = result.StdoutLines.Where(l => l.StartsWith("| ") && !l.StartsWith("| method")).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.StartsWith("| saliency |", rows[0]);
        Assert.StartsWith("| integrated-gradients |", rows[1]);
        Assert.Contains(result.StdoutLines, l => l.Contains("--hta-max-tokens"));
    }

    [Theory]
    [InlineData("--steps", "0", "--steps must be at least 1, not 0")]
    [InlineData("--hta-max-tokens", "1", "--hta-max-tokens must be at least 4, not 1")]
    public void Evaluate_BadGradientOption_OneLineError(string option, string value, string message) =>
        CliHarness.RunUserError(message, "evaluate", "--model", Model, "--data", Data, "--limit", "2", "--methods", "saliency", option, value);
}
