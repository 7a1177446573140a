using System.CommandLine;

namespace MixLens.Cli;

/// <summary><c>embed</c>: one JSON line per text with its sentence embedding.</summary>
internal static class EmbedCommand
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
        var command = new Command("embed",
            "Sentence embeddings: pooled as the model's sentence-transformers files say (mean pooling if it has none).")
        {
            model, text, pair, input, truncate,
        };
        command.Options.Add(device);
        command.SetAction(parse =>
        {
            var (texts, textPair) = CommonOptions.ReadTexts(parse.GetValue(text), parse.GetValue(input), parse.GetValue(pair));
            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);
            using var backend = CommonOptions.UseDevice(encoderModel, parse.GetValue(device), parse.InvocationConfiguration.Error);
            bool cut = parse.GetValue(truncate);
            var stdout = parse.InvocationConfiguration.Output;
            for (int first = 0; first < texts.Count; first += BatchSize)
            {
                var encodings = texts.Skip(first).Take(BatchSize)
                    .Select((t, k) => Tokenize(encoderModel, t, textPair, cut, first + k + 1, texts.Count))
                    .ToArray();
                foreach (var embedding in encoderModel.Embed(encodings)) JsonOutput.WriteEmbedding(stdout, embedding);
            }
            return CliRunner.Success;
        });
        return command;
    }

    static Engine.Tokenization.Encoding Tokenize(Engine.EncoderModel model, string text, string? pair, bool truncate, int line, int count)
    {
        try
        {
            return model.Tokenize(text, pair, truncate);
        }
        catch (Engine.Model.EncoderInputException e) when (count > 1)
        {
            throw new CliException($"line {line}: {e.Message}");
        }
    }
}
