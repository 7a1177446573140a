using System.CommandLine;
using System.Globalization;

namespace MixLens.Cli;

/// <summary><c>fill-mask</c>: the masked-LM head's most probable tokens for every mask token of a text.</summary>
internal static class FillMaskCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var device = CommonOptions.Device();
        var text = CommonOptions.Text(required: true);
        text.Description = "the text, with the tokenizer's mask token ([MASK], <mask>) where tokens are to be predicted";
        var pair = CommonOptions.TextPair();
        var truncate = CommonOptions.Truncate();
        var topK = new Option<int>("--top-k") { Description = "candidates per mask (default 5)", DefaultValueFactory = _ => 5 };
        var format = new Option<string>("--format") { Description = "output format: text or json", DefaultValueFactory = _ => "text" };
        var command = new Command("fill-mask", "Predict the masked tokens of a text with the checkpoint's masked-LM head.")
        {
            model, text, pair, truncate, topK, format,
        };
        command.Options.Add(device);
        command.SetAction(parse =>
        {
            string fmt = parse.GetValue(format)!;
            if (fmt is not ("text" or "json")) throw new CliException($"unknown format '{fmt}'; choose text or json");
            int k = parse.GetValue(topK);
            if (k < 1) throw new CliException($"--top-k must be at least 1, got {k}");
            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);
            using var backend = CommonOptions.UseDevice(encoderModel, parse.GetValue(device), parse.InvocationConfiguration.Error);
            encoderModel.RequireMaskedLm();
            string first = parse.GetValue(text)!;
            string? second = parse.GetValue(pair);
            // Encoded once: a text without a mask token fails here; one within the model's limit is the encoding run.
            var whole = encoderModel.Tokenizer.Encode(first, second);
            encoderModel.MaskPositions(whole); // throws when the tokenizer or the text has no mask token
            var encoding = whole.Length <= encoderModel.Config.MaxSequenceLength
                ? whole
                : encoderModel.Tokenize(first, second, parse.GetValue(truncate)); // over the limit: an error, or cut with --truncate
            if (!encoding.Ids.Contains(encoderModel.Tokenizer.MaskId!.Value))
                throw new CliException($"every mask token of the text lies beyond the model's limit of {encoderModel.Config.MaxSequenceLength} " +
                    "tokens, where --truncate cut it; put the mask earlier or shorten the text");
            var predictions = encoderModel.FillMask(encoding, k);
            var stdout = parse.InvocationConfiguration.Output;
            if (fmt == "json")
            {
                JsonOutput.WriteMaskPredictions(stdout, predictions);
                return CliRunner.Success;
            }
            for (int m = 0; m < predictions.Length; m++)
            {
                var p = predictions[m];
                // Trimmed: a RoBERTa <mask> with lstrip is the token " <mask>", as in HF.
                stdout.WriteLine($"{encoding.Tokens[p.Position].Trim()} {m + 1} of {predictions.Length} (token {p.Position})");
                int width = p.Candidates.Max(c => c.Token.Length);
                foreach (var c in p.Candidates)
                    stdout.WriteLine($"  {c.Token.PadRight(width)}  {c.Prob.ToString("0.0000", CultureInfo.InvariantCulture)}  (id {c.Id})");
            }
            return CliRunner.Success;
        });
        return command;
    }
}
