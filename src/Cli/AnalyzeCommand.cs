using System.CommandLine;
using MixLens.Analysis;
using MixLens.Engine.Model;

namespace MixLens.Cli;

/// <summary><c>analyze</c>: one context-mixing method on one text, as a token × token table of one layer or as JSON of all layers.</summary>
internal static class AnalyzeCommand
{
    const int MinWidth = 40;

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var text = CommonOptions.Text(required: true);
        var pair = CommonOptions.TextPair();
        var truncate = CommonOptions.Truncate();
        var method = new Option<string>("--method")
        {
            Description = $"context-mixing method: {string.Join(", ", MixingMethods.Names)}",
            DefaultValueFactory = _ => "attention",
        };
        var head = new Option<int?>("--head") { Description = "Value Zeroing only: zero the value vectors in this head only, 0-based (default: all heads)" };
        var flowLayers = new Option<string>("--flow-layers")
        {
            Description = "flow only: compute every layer (all) or only the last (last; faster)",
            DefaultValueFactory = _ => "all",
        };
        var layer = new Option<int?>("--layer") { Description = "layer to print in table format, 0-based (default: the last)" };
        var format = new Option<string>("--format") { Description = "output format: table or json", DefaultValueFactory = _ => "table" };
        var width = new Option<int?>("--width") { Description = "table width in columns (default: the terminal's, or 120)" };

        var command = new Command("analyze", "Which input tokens each token draws on, layer by layer.")
        {
            model, text, pair, truncate, method, head, flowLayers, layer, format, width,
        };
        command.SetAction(parse =>
        {
            string methodName = parse.GetValue(method)!;
            if (!MixingMethods.TryParse(methodName, out var m))
                throw new CliException($"unknown method '{methodName}'; choose one of: {string.Join(", ", MixingMethods.Names)}");
            string fmt = parse.GetValue(format)!;
            if (fmt is not ("table" or "json"))
                throw new CliException($"unknown format '{fmt}'; choose table or json");

            int? columns = parse.GetValue(width);
            if (columns < MinWidth) throw new CliException($"--width {columns} is too narrow; give at least {MinWidth} columns");

            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);
            int layers = encoderModel.Config.NumHiddenLayers;
            int shownLayer = parse.GetValue(layer) ?? layers - 1;
            if (shownLayer < 0 || shownLayer >= layers)
                throw new CliException($"--layer {shownLayer} is out of range: the model has layers 0..{layers - 1}");

            int? onlyHead = parse.GetValue(head);
            if (onlyHead is int h)
            {
                if (m is not (MixingMethod.ValueZeroing or MixingMethod.ValueZeroingRollout))
                    throw new CliException("--head applies to value-zeroing and value-zeroing-rollout only");
                if (h < 0 || h >= encoderModel.Config.NumAttentionHeads)
                    throw new CliException($"--head {h} is out of range: the model has heads 0..{encoderModel.Config.NumAttentionHeads - 1}");
            }

            string flowChoice = parse.GetValue(flowLayers)!;
            if (flowChoice is not ("all" or "last")) throw new CliException($"unknown --flow-layers '{flowChoice}'; choose all or last");
            if (flowChoice == "last" && m == MixingMethod.Flow && parse.GetValue(layer) is int asked && asked != layers - 1)
                throw new CliException($"--flow-layers last computes only layer {layers - 1}; drop --layer or use --flow-layers all");

            var encoding = encoderModel.Tokenize(parse.GetValue(text)!, parse.GetValue(pair), parse.GetValue(truncate));
            var scores = MixingMethods.Compute(m, encoderModel.Encoder, EncoderInput.From(encoding), head: onlyHead,
                flowAllLayers: flowChoice == "all");
            var stdout = parse.InvocationConfiguration.Output;
            if (fmt == "json")
                JsonOutput.WriteAnalysis(stdout, encoderModel.Name, MixingMethods.NameOf(m), encoding.Tokens, scores);
            else
                MatrixTable.Write(stdout, $"{MixingMethods.NameOf(m)}{(onlyHead is int hh ? $" (head {hh})" : "")} · layer {shownLayer} of 0..{layers - 1} · {encoderModel.Name}",
                    encoding.Tokens, scores, shownLayer, columns ?? TerminalWidth());
            return CliRunner.Success;
        });
        return command;
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
