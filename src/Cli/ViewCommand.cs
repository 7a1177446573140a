using System.CommandLine;
using System.Diagnostics;
using MixLens.Analysis;
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
        var text = CommonOptions.Text(required: true);
        var pair = CommonOptions.TextPair();
        var truncate = CommonOptions.Truncate();
        var output = new Option<string?>("--out") { Description = "the HTML file to write (one self-contained page, no network access)" };
        var methods = new Option<string?>("--methods")
        {
            Description = $"comma-separated mixing methods for the method view, or 'all' (default: {string.Join(",", DefaultMethods.Select(MixingMethods.NameOf))}); choose from: {string.Join(", ", MixingMethods.Names)}",
        };
        var svg = new Option<string?>("--svg") { Description = "also write an SVG heatmap per method and layer into this folder" };

        var command = new Command("view", "Interactive head, model, neuron and method views in one offline HTML file.")
        {
            model, text, pair, truncate, output, methods, svg,
        };
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
            var chosen = CommonOptions.ParseMethods(parse.GetValue(methods), DefaultMethods);

            var clock = Stopwatch.StartNew();
            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);
            string textValue = parse.GetValue(text)!;
            string? pairValue = parse.GetValue(pair);
            var encoding = encoderModel.Tokenize(textValue, pairValue, parse.GetValue(truncate));
            var view = ViewBuilder.Build(encoderModel.Encoder, encoderModel.Name, encoding, textValue, pairValue, chosen);

            var stdout = parse.InvocationConfiguration.Output;
            if (outPath is not null)
            {
                HtmlViewWriter.Write(outPath, view);
                stdout.WriteLine($"wrote {outPath} ({new FileInfo(outPath).Length / 1024.0:0.#} KiB; {view.TokenCount} tokens, {view.Layers} layers, {view.Heads} heads; methods: {string.Join(", ", view.Methods.Select(m => m.Name))})");
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
