using System.CommandLine;

namespace MixLens.Cli;

/// <summary><c>tokenize</c>: one JSON line per text with ids, tokens and UTF-16 offsets.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var text = CommonOptions.Text(required: false);
        var pair = CommonOptions.TextPair();
        var input = CommonOptions.Input();
        var truncate = new Option<bool>("--truncate") { Description = "truncate each text to the model's limit (max_position_embeddings); default: no truncation" };
        var command = new Command("tokenize", "Tokenize texts as the model's HuggingFace tokenizer does.")
        {
            model, text, pair, input, truncate,
        };
        command.SetAction(parse =>
        {
            var (texts, textPair) = CommonOptions.ReadTexts(parse.GetValue(text), parse.GetValue(input), parse.GetValue(pair));
            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);
            int? limit = parse.GetValue(truncate) ? encoderModel.Config.MaxSequenceLength : null;
            var stdout = parse.InvocationConfiguration.Output;
            foreach (var t in texts)
                JsonOutput.WriteEncoding(stdout, encoderModel.Tokenizer.Encode(t, textPair, limit));
            return CliRunner.Success;
        });
        return command;
    }
}
