using System.CommandLine;
using System.Globalization;

namespace MixLens.Cli;

/// <summary><c>classify</c>: the sequence-classification head's label and probabilities, one line per text.</summary>
internal static class ClassifyCommand
{
    const int BatchSize = 32;

    public static Command Create()
    {
        var model = CommonOptions.Model();
        var device = CommonOptions.Device();
        var text = CommonOptions.Text(required: false);
        var pair = CommonOptions.TextPair();
        var input = CommonOptions.Input();
        var truncate = CommonOptions.Truncate();
        var format = new Option<string>("--format") { Description = "output format: text or json", DefaultValueFactory = _ => "text" };
        var command = new Command("classify", "Sequence classification with the checkpoint's head (labels from id2label; softmax, or sigmoid per label for multi-label or one-label heads, raw score for regression).")
        {
            model, text, pair, input, truncate, format,
        };
        command.Options.Add(device);
        command.SetAction(parse =>
        {
            string fmt = parse.GetValue(format)!;
            if (fmt is not ("text" or "json")) throw new CliException($"unknown format '{fmt}'; choose text or json");
            var (texts, textPair) = CommonOptions.ReadTexts(parse.GetValue(text), parse.GetValue(input), parse.GetValue(pair));
            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);
            using var backend = CommonOptions.UseDevice(encoderModel, parse.GetValue(device), parse.InvocationConfiguration.Error);
            var head = encoderModel.RequireClassifier();
            bool cut = parse.GetValue(truncate);
            var stdout = parse.InvocationConfiguration.Output;
            for (int first = 0; first < texts.Count; first += BatchSize)
            {
                var encodings = texts.Skip(first).Take(BatchSize).Select((t, i) => Tokenize(encoderModel, t, textPair, cut,
                    parse.GetValue(input) is null ? null : first + i + 1)).ToArray();
                foreach (var result in encoderModel.Classify(encodings))
                {
                    if (fmt == "json")
                    {
                        JsonOutput.WriteClassification(stdout, result);
                    }
                    else
                    {
                        stdout.WriteLine(TextLine(head.Labels, result));
                    }
                }
            }
            return CliRunner.Success;
        });
        return command;
    }

    /// <summary>Tokenizes one text; an input error (an over-long text without --truncate) names the --input line.</summary>
    /// <exception cref="CliException">the text cannot be encoded; the message starts with "line N: " for --input.</exception>
    static Engine.Tokenization.Encoding Tokenize(Engine.EncoderModel model, string text, string? pair, bool truncate, int? line)
    {
        try
        {
            return model.Tokenize(text, pair, truncate);
        }
        catch (Engine.Model.EncoderInputException e) when (line is not null)
        {
            throw new CliException($"line {line}: {e.Message}");
        }
    }

    /// <summary>
    /// One text's line: "label score (other label score, …)", the best label first and the others in label order, with
    /// a suffix for scores that are not one softmax: " [sigmoid per label]" (independent sigmoids) or " (regression)"
    /// (the raw outputs of a regression head); no parentheses when there is no other label.
    /// </summary>
    static string TextLine(IReadOnlyList<string> labels, Engine.Heads.Classification result)
    {
        static string Format(float v) => v.ToString("0.0000", CultureInfo.InvariantCulture);
        string line = $"{result.Label} {Format(result.Scores[result.LabelId])}";
        var others = Enumerable.Range(0, labels.Count).Where(k => k != result.LabelId)
            .Select(k => $"{labels[k]} {Format(result.Scores[k])}").ToArray();
        if (others.Length > 0) line += $" ({string.Join(", ", others)})";
        return result.Function switch
        {
            Engine.Heads.ScoreFunction.Sigmoid => line + " [sigmoid per label]",
            Engine.Heads.ScoreFunction.None => line + " (regression)",
            _ => line,
        };
    }
}
