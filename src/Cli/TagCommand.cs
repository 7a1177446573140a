using System.CommandLine;

namespace MixLens.Cli;

/// <summary><c>tag</c>: the token-classification head's label for every token, with its character span.</summary>
internal static class TagCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var text = CommonOptions.Text(required: true);
        var pair = CommonOptions.TextPair();
        var truncate = CommonOptions.Truncate();
        var format = new Option<string>("--format") { Description = "output format: text or json", DefaultValueFactory = _ => "text" };
        var command = new Command("tag", "Label every token with the checkpoint's token-classification head (labels from id2label).")
        {
            model, text, pair, truncate, format,
        };
        command.SetAction(parse =>
        {
            string fmt = parse.GetValue(format)!;
            if (fmt is not ("text" or "json")) throw new CliException($"unknown format '{fmt}'; choose text or json");
            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);
            if (!encoderModel.CanTag) encoderModel.RequireTokenClassifier(); // fails naming what is missing
            string first = parse.GetValue(text)!;
            string? second = parse.GetValue(pair);
            var encoding = encoderModel.Tokenize(first, second, parse.GetValue(truncate));
            var result = encoderModel.Tag(encoding);
            var stdout = parse.InvocationConfiguration.Output;
            if (fmt == "json")
            {
                JsonOutput.WriteTokenLabels(stdout, encoding, result);
                return CliRunner.Success;
            }
            int tokenWidth = encoding.Tokens.Max(t => t.Length), labelWidth = result.Labels.Max(l => l.Length);
            int indexWidth = (encoding.Length - 1).ToString().Length;
            var spans = encoding.Offsets.Select((o, t) => encoding.SpecialTokensMask[t] == 0 ? $"{o.Start}-{o.End}" : "").ToArray();
            int spanWidth = spans.Max(s => s.Length);
            for (int t = 0; t < encoding.Length; t++)
            {
                string line = $"{t.ToString().PadLeft(indexWidth)} {encoding.Tokens[t].PadRight(tokenWidth)}  {result.Labels[t].PadRight(labelWidth)}";
                if (encoding.SpecialTokensMask[t] == 0)
                {
                    // The span indexes the text the token came from (--text, or --text-pair for the pair's tokens).
                    var (start, end) = encoding.Offsets[t];
                    string source = encoding.SequenceIds[t] == 1 ? second! : first;
                    line += $"  {spans[t].PadRight(spanWidth)}  {Printable(source[start..end])}";
                }
                stdout.WriteLine(line.TrimEnd());
            }
            return CliRunner.Success;
        });
        return command;
    }

    /// <summary>A token's text on one line: a newline, carriage return or tab inside it (a byte-level BPE token such
    /// as <c>Ċ</c> covers one) is written \n, \r, \t.</summary>
    static string Printable(string span) => span.Replace("\n", "\\n").Replace("\r", "\\r").Replace("\t", "\\t");
}
