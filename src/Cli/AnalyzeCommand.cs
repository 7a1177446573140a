using System.CommandLine;
using System.Globalization;
using MixLens.Analysis;
using MixLens.Analysis.Cost;
using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;

namespace MixLens.Cli;

/// <summary><c>analyze</c>: one context-mixing method on one text, as a token × token table of one layer or as JSON of all
/// layers; a token-vector method (saliency, gradient-x-input, integrated-gradients) as one row per token.</summary>
internal static class AnalyzeCommand
{
    const int MinWidth = 40;

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var device = CommonOptions.Device();
        var text = CommonOptions.Text(required: true);
        var pair = CommonOptions.TextPair();
        var truncate = new Option<bool>("--truncate")
        {
            Description = "truncate inputs longer than the model's limit (max_position_embeddings) instead of failing; hta: longer than --hta-max-tokens",
        };
        var method = new Option<string>("--method")
        {
            Description = $"context-mixing method: {string.Join(", ", MixingMethods.Names)}",
            DefaultValueFactory = _ => "attention",
        };
        var head = new Option<int?>("--head")
        {
            Description = "value-zeroing, value-zeroing-rollout: zero the value vectors in this head only; attattr: this head's attribution only; 0-based (default: all heads)",
        };
        var flowLayers = new Option<string>("--flow-layers")
        {
            Description = "flow only: compute every layer (all) or only the last (last; faster)",
            DefaultValueFactory = _ => "all",
        };
        var target = GradientOptionsCli.Target();
        var steps = GradientOptionsCli.Steps(several: false);
        var htaMax = GradientOptionsCli.HtaMaxTokens("refused (or cut to the limit with --truncate)");
        var layer = new Option<int?>("--layer") { Description = "layer to print in table format, 0-based (default: the last)" };
        var format = new Option<string>("--format") { Description = "output format: table or json", DefaultValueFactory = _ => "table" };
        var width = new Option<int?>("--width") { Description = "table width in columns (default: the terminal's, or 120)" };
        var rows = new Option<string?>("--rows")
        {
            Description = "flow only: compute only these output token rows, 0-based, e.g. 0 ([CLS]) or 0,3-5; the others are null in JSON and nan in the table (flow's cost is per row)",
        };
        var maxTokens = new Option<int?>("--max-tokens")
        {
            Description = "cut the input to this many tokens (special tokens included) before analysing it",
        };
        var budget = new BudgetOptions();
        var estimateOnly = new Option<bool>("--estimate")
        {
            Description = "print the estimated time and peak memory of the request (and this machine's measured GEMM speed), then stop",
        };

        var command = new Command("analyze", "Which input tokens each token draws on, layer by layer; or, for the token-vector methods, each token's score.")
        {
            model, text, pair, truncate, method, head, flowLayers, target, steps, htaMax, layer, format, width, rows, maxTokens, estimateOnly,
        };
        foreach (var option in budget.All) command.Options.Add(option);
        command.Options.Add(device);
        command.SetAction(parse =>
        {
            string methodName = parse.GetValue(method)!;
            if (!MixingMethods.TryParse(methodName, out var m))
                throw new CliException($"unknown method '{methodName}'; choose one of: {string.Join(", ", MixingMethods.Names)}");
            string name = MixingMethods.NameOf(m);
            string fmt = parse.GetValue(format)!;
            if (fmt is not ("table" or "json"))
                throw new CliException($"unknown format '{fmt}'; choose table or json");

            int? columns = parse.GetValue(width);
            if (columns < MinWidth) throw new CliException($"--width {columns} is too narrow; give at least {MinWidth} columns");

            int? stepCount = GradientOptionsCli.CheckSteps(parse.GetValue(steps));
            if (stepCount is not null && !MixingMethods.TakesSteps(m))
                throw new CliException($"--steps applies to integrated-gradients and attattr only, not to {name}");
            string? targetValue = parse.GetValue(target);
            if (targetValue is not null && !MixingMethods.NeedsClassifier(m))
                throw new CliException($"--target applies to the methods that explain a classifier's class ({ClassifierMethods}), not to {name}");
            var htaLimitResult = parse.GetResult(htaMax);
            int htaLimit = GradientOptionsCli.CheckHtaMaxTokens(parse.GetValue(htaMax));
            if (htaLimitResult is { Implicit: false } && m != MixingMethod.Hta)
                throw new CliException($"--hta-max-tokens applies to hta only, not to {name}");
            bool isVector = MixingMethods.IsTokenVector(m);
            if (isVector && parse.GetValue(layer) is not null)
                throw new CliException($"{name} gives one score per token, not one matrix per layer; drop --layer");

            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);

            using var backend = CommonOptions.UseDevice(encoderModel, parse.GetValue(device), parse.InvocationConfiguration.Error);
            int layers = encoderModel.Config.NumHiddenLayers;
            int shownLayer = parse.GetValue(layer) ?? layers - 1;
            if (shownLayer < 0 || shownLayer >= layers)
                throw new CliException($"--layer {shownLayer} is out of range: the model has layers 0..{layers - 1}");

            int? onlyHead = parse.GetValue(head);
            if (onlyHead is int h)
            {
                if (!MixingMethods.TakesHead(m))
                    throw new CliException("--head applies to value-zeroing, value-zeroing-rollout and attattr only");
                if (h < 0 || h >= encoderModel.Config.NumAttentionHeads)
                    throw new CliException($"--head {h} is out of range: the model has heads 0..{encoderModel.Config.NumAttentionHeads - 1}");
            }

            string flowChoice = parse.GetValue(flowLayers)!;
            if (flowChoice is not ("all" or "last")) throw new CliException($"unknown --flow-layers '{flowChoice}'; choose all or last");
            if (flowChoice == "last" && m == MixingMethod.Flow && parse.GetValue(layer) is int asked && asked != layers - 1)
                throw new CliException($"--flow-layers last computes only layer {layers - 1}; drop --layer or use --flow-layers all");

            string? rowList = parse.GetValue(rows);
            if (rowList is not null && !MixingMethods.TakesRows(m))
                throw new CliException($"--rows applies to flow only, whose cost is per output row; {name} computes every row at once");
            int? tokenLimit = parse.GetValue(maxTokens);
            if (tokenLimit is < 1) throw new CliException($"--max-tokens must be at least 1, not {tokenLimit}");
            var costBudget = budget.Resolve(parse);

            var classifier = GradientOptionsCli.RequireClassifierFor(encoderModel, [m]);
            bool cut = parse.GetValue(truncate);
            var encoding = tokenLimit is int cap
                ? TokenizeWithin(encoderModel, parse.GetValue(text)!, parse.GetValue(pair), m == MixingMethod.Hta && cut ? Math.Min(cap, htaLimit) : cap)
                : m == MixingMethod.Hta && cut
                ? TokenizeWithin(encoderModel, parse.GetValue(text)!, parse.GetValue(pair), htaLimit)
                : encoderModel.Tokenize(parse.GetValue(text)!, parse.GetValue(pair), cut);
            if (m == MixingMethod.Hta && encoding.Length > htaLimit)
                throw new CliException(GradientOptionsCli.HtaTooLong(encoding.Length, htaLimit, encoderModel.Config,
                    $"pass --truncate to cut the text to {htaLimit} tokens, or raise --hta-max-tokens"));

            int[]? outputRows = rowList is null ? null : RowSelection.Parse(rowList, encoding.Length);
            int? usedStepsForCost = parse.GetValue(steps);
            var estimate = CostModel.Estimate(m, encoderModel.Config, encoding.Length,
                new CostOptions(flowChoice == "all", outputRows?.Length, usedStepsForCost));
            if (parse.GetValue(estimateOnly))
            {
                parse.InvocationConfiguration.Output.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"{estimate.What}: {estimate.Summary} ({estimate.Seconds:0.###} s, {estimate.PeakBytes} bytes, {estimate.Operations:0.###e0} operations; GEMM speed {GemmSpeed.FlopsPerSecond / 1e9:0.#} GFLOP/s on {Kernels.Parallelism.MaxThreads} threads, measured in {GemmSpeed.CalibrationTime.TotalMilliseconds:0} ms after a first call of {GemmSpeed.FirstCallTime.TotalMilliseconds:0} ms)"));
                return CliRunner.Success;
            }
            BudgetOptions.Check(estimate, costBudget, Alternatives(m, encoderModel.Config, encoding.Length, flowChoice == "all", outputRows, usedStepsForCost, costBudget));

            var input = EncoderInput.From(encoding);
            ExplainedClass? explained = null;
            int? targetId = null;
            if (classifier is not null)
            {
                targetId = targetValue is null
                    ? GradientOptions.PredictedClass(encoderModel.Encoder, classifier, input)
                    : GradientOptionsCli.ResolveTarget(targetValue, classifier, encoderModel.Name);
                explained = new ExplainedClass(targetId.Value, classifier.Labels[targetId.Value]);
            }
            var gradients = GradientOptions.ForText(encoderModel, encoding, targetId, stepCount);
            int? usedSteps = !MixingMethods.TakesSteps(m) ? null
                : stepCount ?? (m == MixingMethod.IntegratedGradients ? IntegratedGradients.DefaultSteps : AttentionAttribution.DefaultSteps);

            var stdout = parse.InvocationConfiguration.Output;
            var stderr = parse.InvocationConfiguration.Error;
            Tensor scores;
            (double Sum, double Gap)? completeness = null;
            if (m == MixingMethod.IntegratedGradients)
            {
                // the library call behind MixingMethods.Compute, which also returns the completeness check
                var ig = WorkProgress.Run(stderr, estimate, progress => IntegratedGradients.Compute(encoderModel.Encoder, classifier!, input,
                    gradients.SpecialTokens!, gradients.PadTokenId, targetId, usedSteps!.Value, progress));
                scores = new Tensor(ig.Scores, ig.Scores.Length);
                completeness = (ig.Sum, ig.Gap);
            }
            else
            {
                scores = WorkProgress.Run(stderr, estimate, progress => MixingMethods.Compute(m, encoderModel.Encoder, input, head: onlyHead,
                    flowAllLayers: flowChoice == "all", gradients: gradients, rows: outputRows, progress: progress));
            }

            if (fmt == "json")
            {
                JsonOutput.WriteAnalysis(stdout, encoderModel.Name, name, encoding.Tokens, scores, explained, usedSteps, completeness, outputRows);
                return CliRunner.Success;
            }
            string about = (onlyHead is int hh ? $" (head {hh})" : "")
                + (outputRows is null ? "" : $" · rows {rowList} only (the others not computed: nan)")
                + (explained is null ? "" : $" · target {explained.Id} ({explained.Label})")
                + (usedSteps is int us ? $" · {us} steps" : "");
            if (isVector)
            {
                var header = new List<string>
                {
                    $"{name}{about} · {encoderModel.Name}",
                    MixingMethods.Describe(m),
                };
                if (completeness is var (sum, gap))
                    header.Add(string.Create(CultureInfo.InvariantCulture,
                        $"completeness: Σ IG = {sum:0.0000}, z_c(x) − z_c(x′) = {gap:0.0000} (difference {sum - gap:0.0e+0}; x′: pad-token embeddings, special tokens kept)"));
                TokenScoresTable.Write(stdout, header, encoding.Tokens, scores.Data, signed: m != MixingMethod.Saliency, columns ?? TerminalWidth());
            }
            else
            {
                MatrixTable.Write(stdout, $"{name}{about} · layer {shownLayer} of 0..{layers - 1} · {encoderModel.Name}",
                    encoding.Tokens, scores, shownLayer, columns ?? TerminalWidth());
            }
            return CliRunner.Success;
        });
        return command;
    }

    static string ClassifierMethods =>
        string.Join(", ", Enum.GetValues<MixingMethod>().Where(MixingMethods.NeedsClassifier).Select(MixingMethods.NameOf));

    /// <summary>Tokenizes with truncation to <paramref name="limit"/> tokens (at most the model's own limit).</summary>
    internal static Engine.Tokenization.Encoding TokenizeWithin(EncoderModel model, string text, string? pair, int limit)
    {
        var encoding = model.Tokenizer.Encode(text, pair, Math.Min(limit, model.Config.MaxSequenceLength));
        if (encoding.Length == 0)
            throw new EncoderInputException("the input has no tokens (the text is empty and the tokenizer adds no special tokens)");
        return encoding;
    }

    /// <summary>The cheaper ways to ask for <paramref name="method"/> on n tokens, each with its estimate: for flow a
    /// row subset and the last layer only, for the step methods fewer steps, for hta a token limit, and for every method
    /// the longest input that fits the budget (--max-tokens).</summary>
    static IEnumerable<(string, CostEstimate)> Alternatives(MixingMethod method, Engine.Model.EncoderConfig config, int n, bool flowAll,
        int[]? rows, int? steps, CostBudget budget)
    {
        if (method == MixingMethod.Flow)
        {
            if (rows is null || rows.Length > 1)
                yield return ("--rows 0", CostModel.Estimate(method, config, n, new CostOptions(flowAll, 1)));
            if (flowAll)
                yield return ("--flow-layers last", CostModel.Estimate(method, config, n, new CostOptions(false, rows?.Length)));
        }
        if (MixingMethods.TakesSteps(method))
        {
            int used = steps ?? (method == MixingMethod.IntegratedGradients ? IntegratedGradients.DefaultSteps : AttentionAttribution.DefaultSteps);
            int fewer = Math.Max(1, used / 4);
            if (fewer < used) yield return ($"--steps {fewer}", CostModel.Estimate(method, config, n, new CostOptions(Steps: fewer)));
        }
        int longest = CostModel.LongestWithin(k => CostModel.Estimate(method, config, k,
            new CostOptions(flowAll, rows is null ? null : Math.Min(rows.Length, k), steps)), n - 1, budget.MaxSeconds, budget.MaxBytes);
        if (longest >= 1)
        {
            string option = method == MixingMethod.Hta ? $"--truncate --hta-max-tokens {longest}" : $"--max-tokens {longest}";
            yield return (option, CostModel.Estimate(method, config, longest, new CostOptions(flowAll, rows is null ? null : Math.Min(rows.Length, longest), steps)));
        }
    }

    static int TerminalWidth()
    {
        try
        {
            if (!Console.IsOutputRedirected && Console.WindowWidth >= MinWidth) return Console.WindowWidth;
        }
        catch (IOException) { }
        if (int.TryParse(Environment.GetEnvironmentVariable("COLUMNS"), out int columns) && columns >= MinWidth) return columns;
        return 120;
    }
}
