using System.CommandLine;
using System.Globalization;
using MixLens.Analysis;
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

        var command = new Command("analyze", "Which input tokens each token draws on, layer by layer; or, for the token-vector methods, each token's score.")
        {
            model, text, pair, truncate, method, head, flowLayers, target, steps, htaMax, layer, format, width,
        };
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

            var classifier = GradientOptionsCli.RequireClassifierFor(encoderModel, [m]);
            bool cut = parse.GetValue(truncate);
            var encoding = m == MixingMethod.Hta && cut
                ? TokenizeWithin(encoderModel, parse.GetValue(text)!, parse.GetValue(pair), htaLimit)
                : encoderModel.Tokenize(parse.GetValue(text)!, parse.GetValue(pair), cut);
            if (m == MixingMethod.Hta && encoding.Length > htaLimit)
                throw new CliException(GradientOptionsCli.HtaTooLong(encoding.Length, htaLimit, encoderModel.Config,
                    $"pass --truncate to cut the text to {htaLimit} tokens, or raise --hta-max-tokens"));

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
            Tensor scores;
            (double Sum, double Gap)? completeness = null;
            if (m == MixingMethod.IntegratedGradients)
            {
                // the library call behind MixingMethods.Compute, which also returns the completeness check
                var ig = IntegratedGradients.Compute(encoderModel.Encoder, classifier!, input, gradients.SpecialTokens!,
                    gradients.PadTokenId, targetId, usedSteps!.Value);
                scores = new Tensor(ig.Scores, ig.Scores.Length);
                completeness = (ig.Sum, ig.Gap);
            }
            else if (m == MixingMethod.Hta)
            {
                scores = WithProgress(parse.InvocationConfiguration.Error, encoding.Length * encoderModel.Config.HiddenSize,
                    progress => HiddenTokenAttribution.Compute(encoderModel.Encoder, input, progress));
            }
            else
            {
                scores = MixingMethods.Compute(m, encoderModel.Encoder, input, head: onlyHead, flowAllLayers: flowChoice == "all", gradients: gradients);
            }

            if (fmt == "json")
            {
                JsonOutput.WriteAnalysis(stdout, encoderModel.Name, name, encoding.Tokens, scores, explained, usedSteps, completeness);
                return CliRunner.Success;
            }
            string about = (onlyHead is int hh ? $" (head {hh})" : "")
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

    /// <summary>Runs <paramref name="compute"/> with a percentage on stderr when it is a terminal (hta takes seconds to minutes).</summary>
    static Tensor WithProgress(TextWriter? stderr, long tangents, Func<IProgress<double>?, Tensor> compute)
    {
        if (stderr is null || Console.IsErrorRedirected || !ReferenceEquals(stderr, Console.Error)) return compute(null);
        var progress = new Progress<double>(f => stderr.Write(string.Create(CultureInfo.InvariantCulture, $"\rhta: {f:P0} of {tangents:N0} tangents   ")));
        var result = compute(progress);
        stderr.Write("\r" + new string(' ', 40) + "\r");
        return result;
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
