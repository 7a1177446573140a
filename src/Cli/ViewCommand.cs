using System.CommandLine;
using System.Diagnostics;
using MixLens.Analysis;
using MixLens.Analysis.Cost;
using MixLens.Analysis.Visualization;

namespace MixLens.Cli;

/// <summary>
/// <c>view</c>: the head, model, neuron and method views of one text (or sentence pair) as one self-contained,
/// offline HTML file (<see cref="HtmlViewWriter"/>), and optionally static SVG heatmaps (<see cref="SvgHeatmapWriter"/>).
/// </summary>
internal static class ViewCommand
{
    /// <summary>The methods shown when --methods is not given: all but the costly ones (flow, Value Zeroing).</summary>
    public static readonly MixingMethod[] DefaultMethods =
    [
        MixingMethod.Attention, MixingMethod.Rollout, MixingMethod.AttentionNorm, MixingMethod.Alti,
        MixingMethod.AltiRollout, MixingMethod.GlobEnc, MixingMethod.GlobEncRollout,
    ];

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var device = CommonOptions.Device();
        var text = CommonOptions.Text(required: true);
        var pair = CommonOptions.TextPair();
        var truncate = new Option<bool>("--truncate")
        {
            Description = "truncate inputs longer than the model's limit (max_position_embeddings) instead of failing; with hta: longer than --hta-max-tokens",
        };
        var output = new Option<string?>("--out") { Description = "the HTML file to write (one self-contained page, no network access)" };
        var methods = new Option<string?>("--methods")
        {
            Description = $"comma-separated mixing methods for the method view, or 'all' (on a model without a sequence-classification head: all but those that explain its class; default: {string.Join(",", DefaultMethods.Select(MixingMethods.NameOf))}); choose from: {string.Join(", ", MixingMethods.Names)}",
        };
        var target = GradientOptionsCli.Target();
        var steps = GradientOptionsCli.Steps(several: true);
        var htaMax = GradientOptionsCli.HtaMaxTokens("refused (or cut to the limit with --truncate)");
        var svg = new Option<string?>("--svg") { Description = "also write an SVG heatmap per method and layer into this folder" };
        var budget = new BudgetOptions();

        var command = new Command("view", "Interactive head, model, neuron and method views in one offline HTML file.")
        {
            model, text, pair, truncate, output, methods, target, steps, htaMax, svg,
        };
        foreach (var option in budget.All) command.Options.Add(option);
        command.Options.Add(device);
        command.SetAction(parse =>
        {
            string? outPath = parse.GetValue(output), svgDir = parse.GetValue(svg);
            if (outPath is null && svgDir is null)
                throw new CliException("give --out FILE.html for the page (and/or --svg DIR for static heatmaps)");
            if (outPath is not null)
            {
                string? folder = Path.GetDirectoryName(Path.GetFullPath(outPath));
                if (folder is not null && !Directory.Exists(folder)) throw new CliException($"--out: folder '{folder}' does not exist");
                if (Directory.Exists(outPath)) throw new CliException($"--out '{outPath}' is a folder; give a file name such as view.html");
            }
            string? methodList = parse.GetValue(methods);
            var chosen = CommonOptions.ParseMethods(methodList, DefaultMethods);
            int? stepCount = GradientOptionsCli.CheckSteps(parse.GetValue(steps));
            int htaLimit = GradientOptionsCli.CheckHtaMaxTokens(parse.GetValue(htaMax));
            string? targetValue = parse.GetValue(target);
            var costBudget = budget.Resolve(parse);

            var clock = Stopwatch.StartNew();
            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);
            using var backend = CommonOptions.UseDevice(encoderModel, parse.GetValue(device), parse.InvocationConfiguration.Error);
            chosen = CommonOptions.ForModel(chosen, methodList, encoderModel);
            if (targetValue is not null && !chosen.Any(MixingMethods.NeedsClassifier))
                throw new CliException("--target applies to the methods that explain a classifier's class; none is among --methods");
            int? targetId = targetValue is null ? null : GradientOptionsCli.ResolveTarget(targetValue, encoderModel.RequireClassifier(), encoderModel.Name);
            string textValue = parse.GetValue(text)!;
            string? pairValue = parse.GetValue(pair);
            bool hta = chosen.Contains(MixingMethod.Hta), cut = parse.GetValue(truncate);
            var encoding = hta && cut
                ? AnalyzeCommand.TokenizeWithin(encoderModel, textValue, pairValue, htaLimit)
                : encoderModel.Tokenize(textValue, pairValue, cut);
            if (hta && encoding.Length > htaLimit)
                throw new CliException(GradientOptionsCli.HtaTooLong(encoding.Length, htaLimit, encoderModel.Config,
                    $"pass --truncate to cut the text to {htaLimit} tokens, raise --hta-max-tokens, or leave hta out of --methods"));
            var costOptions = new CostOptions(Steps: stepCount);
            var estimate = CostModel.Several(chosen, encoderModel.Config, encoding.Length, costOptions) with
            {
                What = $"view of {chosen.Count} method{(chosen.Count == 1 ? "" : "s")} on {encoding.Length} tokens",
            };
            BudgetOptions.Check(estimate, costBudget, chosen.Count < 2 ? [] : chosen
                .Select(m => ($"leaving {MixingMethods.NameOf(m)} out of --methods",
                    CostModel.Several(chosen.Where(o => o != m).ToArray(), encoderModel.Config, encoding.Length, costOptions)))
                .OrderBy(a => a.Item2.Seconds).Take(2));
            var view = WorkProgress.Run(parse.InvocationConfiguration.Error, estimate, progress =>
                ViewBuilder.Build(encoderModel.Encoder, encoderModel.Name, encoding, textValue, pairValue, chosen,
                    gradients: GradientOptions.ForText(encoderModel, encoding, targetId, stepCount), progress: progress));

            var stdout = parse.InvocationConfiguration.Output;
            if (outPath is not null)
            {
                HtmlViewWriter.Write(outPath, view);
                stdout.WriteLine($"wrote {outPath} ({new FileInfo(outPath).Length / 1024.0:0.#} KiB; {view.TokenCount} tokens, {view.Layers} layers, {view.Heads} heads; methods: {string.Join(", ", view.Methods.Select(m => m.Name))}{(view.Target is var (id, label) ? $"; target {id} ({label})" : "")})");
            }
            if (svgDir is not null)
            {
                var files = SvgHeatmapWriter.WriteAll(svgDir, view);
                stdout.WriteLine($"wrote {files.Count} SVG heatmaps to {svgDir}");
            }
            stdout.WriteLine($"took {clock.Elapsed.TotalSeconds:0.0} s");
            return CliRunner.Success;
        });
        return command;
    }
}
