using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using MixLens.Analysis;
using MixLens.Analysis.Cost;
using MixLens.Analysis.Evaluation;

namespace MixLens.Cli;

/// <summary>
/// <c>evaluate</c>: faithfulness of the context-mixing methods to a sequence classifier on a labelled TSV (SST-2 dev):
/// per method, Spearman's ρ between the [CLS] row of the last layer and the blank-out importances (mean ± sd over the
/// sentences, Mohebbi et al. 2023, arXiv:2301.12971) and AOPC (Samek et al. 2017, arXiv:1509.06321; DeYoung et al.
/// 2020, arXiv:1911.03429), ERASER's comprehensiveness and sufficiency (DeYoung et al. 2020, as ferret reports them;
/// <see cref="Eraser"/>), plus the model's accuracy. All metrics watch the score the head's problem_type gives the
/// prediction (<see cref="PredictionScore"/>: softmax or sigmoid probability, or a regression output, for which the
/// accuracy is written n/a / null). See <see cref="FaithfulnessEvaluation"/>.
/// </summary>
internal static class EvaluateCommand
{
    static readonly JsonWriterOptions JsonOptions = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var device = CommonOptions.Device();
        var data = new Option<string>("--data") { Description = "labelled TSV: header 'sentence<TAB>label', then one 'sentence<TAB>label' per line", Required = true };
        var methods = new Option<string?>("--methods")
        {
            Description = $"comma-separated methods, or 'all' (default: every method but flow and hta, whose cost grows fast with the length: {string.Join(",", FaithfulnessEvaluation.DefaultMethods.Select(MixingMethods.NameOf))}): {string.Join(", ", MixingMethods.Names)}",
        };
        var limit = new Option<int?>("--limit") { Description = "evaluate only the first N sentences" };
        var flowMax = new Option<int>("--flow-max-tokens")
        {
            Description = "flow only: skip (and count) sentences longer than this many tokens",
            DefaultValueFactory = _ => 32,
        };
        var htaMax = GradientOptionsCli.HtaMaxTokens("skipped (and counted)");
        var steps = GradientOptionsCli.Steps(several: true);
        var format = new Option<string>("--format") { Description = "output format: table (Markdown) or json", DefaultValueFactory = _ => "table" };
        var csv = new Option<string?>("--csv") { Description = "also write the per-method results as CSV to this file" };
        var perExample = new Option<string?>("--per-example") { Description = "also write one JSON line per sentence to this file" };
        var jobs = new Option<int?>("--jobs")
        {
            Description = "sentences evaluated at once (default: the number of cores; the results do not depend on it)",
        };
        var budget = new BudgetOptions();
        var command = new Command("evaluate",
            "Faithfulness of the context-mixing methods to the classifier: Spearman's rho with blank-out importances, AOPC, and ERASER comprehensiveness and sufficiency.")
        {
            model, data, methods, limit, flowMax, htaMax, steps, format, csv, perExample, jobs,
        };
        foreach (var option in budget.All) command.Options.Add(option);
        command.Options.Add(device);
        command.SetAction(parse =>
        {
            string fmt = parse.GetValue(format)!;
            if (fmt is not ("table" or "json")) throw new CliException($"unknown format '{fmt}'; choose table or json");
            var chosen = CommonOptions.ParseMethods(parse.GetValue(methods), FaithfulnessEvaluation.DefaultMethods);
            int? n = parse.GetValue(limit);
            if (n is < 1) throw new CliException($"--limit must be at least 1, not {n}");
            int? parallelism = parse.GetValue(jobs);
            if (parallelism is < 1) throw new CliException($"--jobs must be at least 1, not {parallelism}");
            int flowMaxTokens = parse.GetValue(flowMax);
            if (flowMaxTokens < 3) throw new CliException($"--flow-max-tokens must be at least 3, not {flowMaxTokens}");
            int htaMaxTokens = GradientOptionsCli.CheckHtaMaxTokens(parse.GetValue(htaMax));
            int? stepCount = GradientOptionsCli.CheckSteps(parse.GetValue(steps));
            string dataPath = parse.GetValue(data)!;
            if (!File.Exists(dataPath)) throw new CliException($"data file '{dataPath}' not found");
            var costBudget = budget.Resolve(parse);
            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);
            using var backend = CommonOptions.UseDevice(encoderModel, parse.GetValue(device), parse.InvocationConfiguration.Error);
            var head = encoderModel.RequireClassifier();
            IReadOnlyList<LabeledSentence> sentences;
            try
            {
                // a regression head's targets are numbers (e.g. STS-B scores), a classifier's are class ids
                sentences = LabeledTsv.Read(dataPath, n, decimalLabels: head.Function == Engine.Heads.ScoreFunction.None);
            }
            catch (FormatException e)
            {
                throw new CliException(e.Message);
            }
            if (sentences.Count == 0) throw new CliException($"data file '{dataPath}' has no sentences");
            if (encoderModel.Tokenizer.MaskId is null) throw new CliException($"{encoderModel.Name}: the tokenizer has no [MASK] token");
            // A regression head's output is not a class: its labels are not compared (no accuracy).
            int classes = PredictionScore.Classes(head.Labels.Count, head.Function);
            if (head.Function != Engine.Heads.ScoreFunction.None)
                foreach (var s in sentences)
                    if (s.Label >= classes)
                        throw new CliException($"{dataPath}, line {s.Line}: label {s.Label} is not a class of {encoderModel.Name} (0…{classes - 1})");

            // the cost: per sentence (the budget applies to the costliest one, its memory times the sentences run at
            // once), and the total for the ETA
            var config = encoderModel.Config;
            var lengths = sentences.Select(st => encoderModel.Tokenize(st.Text, truncate: true).Length).ToArray();
            CostEstimate PerSentence(int tokens, int flowLimit, int htaLimit) =>
                CostModel.EvaluateSentence(chosen, config, tokens, flowLimit, htaLimit, stepCount);
            int longest = lengths.Max();
            int concurrent = Math.Min(parallelism ?? Environment.ProcessorCount, sentences.Count);
            var costliest = PerSentence(longest, flowMaxTokens, htaMaxTokens);
            costliest = costliest with
            {
                What = $"evaluate's longest sentence ({longest} tokens, {concurrent} at once)",
                PeakBytes = costliest.PeakBytes * concurrent,
            };
            var alternatives = new List<(string, CostEstimate)>();
            if (chosen.Contains(Analysis.MixingMethod.Flow) && longest > 3)
                alternatives.Add(($"--flow-max-tokens {Math.Max(3, longest / 2)}", PerSentence(longest, Math.Max(3, longest / 2), htaMaxTokens) with { PeakBytes = costliest.PeakBytes }));
            if (chosen.Contains(Analysis.MixingMethod.Hta) && longest > 1)
                alternatives.Add(($"--hta-max-tokens {Math.Max(1, longest / 2)}", PerSentence(longest, flowMaxTokens, Math.Max(1, longest / 2)) with { PeakBytes = costliest.PeakBytes }));
            if (concurrent > 1)
                alternatives.Add(("--jobs 1", PerSentence(longest, flowMaxTokens, htaMaxTokens)));
            BudgetOptions.Check(costliest, costBudget, alternatives);
            double totalSeconds = lengths.Sum(k => PerSentence(k, flowMaxTokens, htaMaxTokens).Seconds);   // the GEMM speed is all cores'; sentences at once share them
            if (ReferenceEquals(parse.InvocationConfiguration.Error, Console.Error) && totalSeconds >= WorkProgress.QuietBelowSeconds)
                Console.Error.WriteLine($"mixlens: evaluate on {sentences.Count} sentences: estimated about {CostEstimate.Duration(totalSeconds)} " +
                    $"(the longest sentence, {longest} tokens: {PerSentence(longest, flowMaxTokens, htaMaxTokens).Summary})");

            string? perExamplePath = parse.GetValue(perExample);
            using var perExampleWriter = perExamplePath is null ? null : new StreamWriter(perExamplePath, false, new System.Text.UTF8Encoding(false));
            var stderr = parse.InvocationConfiguration.Error;
            bool showProgress = !Console.IsErrorRedirected && ReferenceEquals(stderr, Console.Error);
            var clock = Stopwatch.StartNew();
            var result = FaithfulnessEvaluation.Run(encoderModel, sentences, new EvaluationOptions(chosen, flowMaxTokens, MaxDegreeOfParallelism: parallelism,
                    HtaMaxTokens: htaMaxTokens, Steps: stepCount),
                progress: showProgress ? (done, total) => stderr!.Write(
                    $"\revaluate: {done}/{total} sentences, {clock.Elapsed.TotalSeconds:0}s, {done / clock.Elapsed.TotalSeconds:0.0} sentences/s, ETA {(total - done) * clock.Elapsed.TotalSeconds / done:0}s   ") : null,
                perExample: perExampleWriter is null ? null : e => WriteExample(perExampleWriter, e));
            if (showProgress) stderr!.WriteLine();

            string? csvPath = parse.GetValue(csv);
            if (csvPath is not null) File.WriteAllText(csvPath, Csv(result));
            var stdout = parse.InvocationConfiguration.Output;
            if (fmt == "json") WriteJson(stdout, encoderModel.Name, dataPath, result);
            else WriteTable(stdout, encoderModel.Name, dataPath, result);
            return CliRunner.Success;
        });
        return command;
    }

    static string F(double x, string format = "0.000") =>
        double.IsNaN(x) ? "n/a" : x.ToString(format, CultureInfo.InvariantCulture);

    static void WriteTable(TextWriter output, string model, string data, EvaluationResult r)
    {
        string accuracy = r.Accuracy is double a ? $"accuracy {F(a, "0.0000")} ({r.Correct}/{r.Sentences})" : "accuracy n/a (regression)";
        output.WriteLine($"Faithfulness on {Path.GetFileName(data)} ({model}): {r.Sentences} sentences, {accuracy}, {r.SkippedShort} skipped (< 3 non-special tokens)");
        output.WriteLine();
        output.WriteLine("| method | Spearman ρ (mean ± sd) | sentences | ρ undefined | too long | AOPC | comprehensiveness ↑ | sufficiency ↓ |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var m in r.Methods)
            output.WriteLine($"| {m.Name} | {F(m.SpearmanMean)} ± {F(m.SpearmanSd)} | {m.Spearman.Count} | {m.SkippedConstant} | {m.SkippedTooLong} | {F(m.AopcMean, "0.0000")} " +
                $"| {F(m.ComprehensivenessMean, "0.0000")} | {F(m.SufficiencyMean, "0.0000")} |");
        output.WriteLine();
        output.WriteLine("AOPC: mean drop of the score with the method's top 10…50% of tokens masked. ERASER (DeYoung et al. 2020): " +
            "comprehensiveness = mean drop with the top k tokens deleted (higher = better), sufficiency = mean drop with only " +
            "the top k kept (lower = better), k = ⌊q·m⌋ for q = 0.1…1.0 (each distinct k > 0 once), special tokens always kept. " +
            "Too long: sentences over flow's or hta's token limit (--flow-max-tokens, --hta-max-tokens), left out of that method's means.");
    }

    static string Csv(EvaluationResult r)
    {
        var sb = new System.Text.StringBuilder("method,spearman_mean,spearman_sd,n,skipped_constant,skipped_too_long,aopc,aopc_n,comprehensiveness,sufficiency\n");
        foreach (var m in r.Methods)
            sb.Append(CultureInfo.InvariantCulture,
                $"{m.Name},{Num(m.SpearmanMean)},{Num(m.SpearmanSd)},{m.Spearman.Count},{m.SkippedConstant},{m.SkippedTooLong},{Num(m.AopcMean)},{m.Aopc.Count}," +
                $"{Num(m.ComprehensivenessMean)},{Num(m.SufficiencyMean)}\n");
        return sb.ToString();
    }

    static string Num(double x) => double.IsNaN(x) ? "" : x.ToString("R", CultureInfo.InvariantCulture);

    static void Number(Utf8JsonWriter w, string name, double x)
    {
        if (double.IsNaN(x) || double.IsInfinity(x)) w.WriteNull(name);
        else w.WriteNumber(name, x);
    }

    static void WriteJson(TextWriter output, string model, string data, EvaluationResult r)
    {
        output.WriteLine(Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("model", model);
            w.WriteString("data", data);
            w.WriteNumber("sentences", r.Sentences);
            w.WriteString("function", r.Function.ToString().ToLowerInvariant());
            if (r.Correct is int correct) w.WriteNumber("correct", correct);
            else w.WriteNull("correct");
            Number(w, "accuracy", r.Accuracy ?? double.NaN);
            w.WriteNumber("skipped_short", r.SkippedShort);
            w.WriteStartObject("methods");
            foreach (var m in r.Methods)
            {
                w.WriteStartObject(m.Name);
                Number(w, "spearman_mean", m.SpearmanMean);
                Number(w, "spearman_sd", m.SpearmanSd);
                w.WriteNumber("n", m.Spearman.Count);
                w.WriteNumber("skipped_constant", m.SkippedConstant);
                w.WriteNumber("skipped_too_long", m.SkippedTooLong);
                Number(w, "aopc", m.AopcMean);
                w.WriteNumber("aopc_n", m.Aopc.Count);
                Number(w, "comprehensiveness", m.ComprehensivenessMean); // ERASER, higher = more faithful
                Number(w, "sufficiency", m.SufficiencyMean); // ERASER, lower = more faithful
                w.WriteEndObject();
            }
            w.WriteEndObject();
            w.WriteEndObject();
        }));
    }

    static void WriteExample(TextWriter output, ExampleEvaluation e)
    {
        output.WriteLine(Json(w =>
        {
            w.WriteStartObject();
            w.WriteNumber("line", e.Sentence.Line);
            w.WriteString("text", e.Sentence.Text);
            w.WriteNumber("label", e.Sentence.Label);
            w.WriteNumber("predicted", e.Predicted);
            w.WriteNumber("p", e.Score);
            w.WriteNumber("tokens", e.NonSpecialTokens);
            w.WriteStartObject("spearman");
            foreach (var (m, v) in e.Spearman) Number(w, MixingMethods.NameOf(m), v ?? double.NaN);
            w.WriteEndObject();
            w.WriteStartObject("aopc");
            foreach (var (m, v) in e.Aopc) Number(w, MixingMethods.NameOf(m), v ?? double.NaN);
            w.WriteEndObject();
            w.WriteStartObject("comprehensiveness");
            foreach (var (m, v) in e.Comprehensiveness) Number(w, MixingMethods.NameOf(m), v ?? double.NaN);
            w.WriteEndObject();
            w.WriteStartObject("sufficiency");
            foreach (var (m, v) in e.Sufficiency) Number(w, MixingMethods.NameOf(m), v ?? double.NaN);
            w.WriteEndObject();
            w.WriteEndObject();
        }));
    }

    static string Json(Action<Utf8JsonWriter> write)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, JsonOptions)) write(w);
        return System.Text.Encoding.UTF8.GetString(stream.ToArray());
    }
}
