using System.CommandLine;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Engine.Tracing;

namespace MixLens.Cli;

/// <summary><c>trace</c>: runs one text and writes every sub-step of every layer to a safetensors file.</summary>
internal static class TraceCommand
{
    public static Command Create()
    {
        var model = CommonOptions.Model();
        var device = CommonOptions.Device();
        var text = CommonOptions.Text(required: true);
        var pair = CommonOptions.TextPair();
        var truncate = CommonOptions.Truncate();
        var output = new Option<string>("--out")
        {
            Description = "safetensors file to write: input_ids, token_type_ids (I64) and every traced tensor (F32)",
            Required = true,
        };
        var command = new Command("trace", "Dump every intermediate tensor of the forward pass for one text.")
        {
            model, text, pair, truncate, output,
        };
        command.Options.Add(device);
        command.SetAction(parse =>
        {
            string path = parse.GetValue(output)!;
            string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
            if (folder != null && !Directory.Exists(folder))
                throw new CliException($"cannot write '{path}': folder '{folder}' does not exist");

            using var encoderModel = CommonOptions.LoadModel(parse.GetValue(model)!);

            using var backend = CommonOptions.UseDevice(encoderModel, parse.GetValue(device), parse.InvocationConfiguration.Error);
            var encoding = encoderModel.Tokenize(parse.GetValue(text)!, parse.GetValue(pair), parse.GetValue(truncate));
            var (_, trace) = encoderModel.Encoder.Forward(EncoderInput.From(encoding), TraceRequest.All);

            int n = encoding.Length;
            var tensors = new List<TensorToWrite>
            {
                TensorToWrite.Int64("input_ids", Array.ConvertAll(encoding.Ids, x => (long)x), n),
                TensorToWrite.Int64("token_type_ids", Array.ConvertAll(encoding.TypeIds, x => (long)x), n),
            };
            foreach (var name in TraceNames.All(encoderModel.Config.NumHiddenLayers))
            {
                var t = trace[name];
                tensors.Add(TensorToWrite.Float32(name, t.Data, Array.ConvertAll(t.Shape, x => (long)x)));
            }
            var metadata = new Dictionary<string, string>
            {
                ["model"] = encoderModel.Name,
                ["tokens"] = System.Text.Json.JsonSerializer.Serialize(encoding.Tokens, Analysis.Corpus.StringArrayJsonContext.Default.StringArray),
                ["producer"] = "mixlens trace",
            };
            SafeTensorsWriter.Write(path, tensors, metadata);
            parse.InvocationConfiguration.Output.WriteLine(
                $"wrote {tensors.Count} tensors ({n} tokens, {encoderModel.Config.NumHiddenLayers} layers) to {path}");
            return CliRunner.Success;
        });
        return command;
    }
}
