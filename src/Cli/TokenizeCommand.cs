using System.CommandLine;
using MixLens.Engine.Hub;
using MixLens.Engine.Model;
using MixLens.Engine.Tokenization;

namespace MixLens.Cli;

/// <summary><c>tokenize</c>: one JSON line per text with ids, tokens and UTF-16 offsets. Needs the tokenizer files
/// only: a folder (or hub repository) without config.json or weights will do.</summary>
internal static class TokenizeCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var text = CommonOptions.Text(required: false);
        var pair = CommonOptions.TextPair();
        var input = CommonOptions.Input();
        var truncate = new Option<bool>("--truncate")
        {
            Description = "truncate each text to the model's limit (config.json's max_position_embeddings, else tokenizer_config.json's model_max_length); default: no truncation",
        };
        var command = new Command("tokenize", "Tokenize texts as the model's HuggingFace tokenizer does.")
        {
            model, text, pair, input, truncate,
        };
        command.SetAction(parse =>
        {
            var (texts, textPair) = CommonOptions.ReadTexts(parse.GetValue(text), parse.GetValue(input), parse.GetValue(pair));
            string name = parse.GetValue(model)!;
            string directory = ModelLocator.Locate(name, ModelFileSet.Tokenizer, CommonOptions.Hub(name)).Directory;
            var tokenizer = TokenizerFactory.Load(directory);
            int? limit = parse.GetValue(truncate) ? TokenLimit(directory, tokenizer) : null;
            var stdout = parse.InvocationConfiguration.Output;
            foreach (var t in texts)
                JsonOutput.WriteEncoding(stdout, tokenizer.Encode(t, textPair, limit));
            return CliRunner.Success;
        });
        return command;
    }

    /// <summary>The longest text in tokens: the model's limit from config.json when the folder has one (as the other
    /// commands use), else the tokenizer's model_max_length.</summary>
    static int TokenLimit(string directory, ITokenizer tokenizer)
    {
        string config = Path.Combine(directory, "config.json");
        if (File.Exists(config)) return EncoderConfig.Load(config).MaxSequenceLength;
        return tokenizer.ModelMaxLength ?? throw new CliException(
            $"--truncate needs the model's token limit, but '{directory}' has no config.json and its tokenizer_config.json gives no model_max_length");
    }
}
