using System.CommandLine;
using MixLens.Engine.Conversion;

namespace MixLens.Cli;

/// <summary>
/// <c>convert</c>: a PyTorch checkpoint (<c>pytorch_model.bin</c>, zip or legacy format, single or sharded) to
/// safetensors, with <see cref="CheckpointConverter"/> (the same core and options as the standalone
/// <c>tools/convert</c>). A pickle that names anything but tensor-rebuild functions, storage types and OrderedDict is
/// refused with a one-line error naming the global; nothing from it is ever executed.
/// </summary>
internal static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("INPUT")
        {
            Description = "pytorch_model.bin (zip or legacy format), a pytorch_model.bin.index.json of a sharded checkpoint, or a folder holding either",
        };
        var output = new Option<string?>("--out")
        {
            Description = "output file (or folder); default: model.safetensors beside the input. Sharded input: a folder for the shards and model.safetensors.index.json, or FILE.safetensors to merge them",
        };
        var dtype = new Option<string>("--dtype")
        {
            Description = "element type of floating-point tensors: keep (bit-exact), f32, f16 or bf16",
            DefaultValueFactory = _ => "keep",
        };
        dtype.AcceptOnlyFromAmong("keep", "f32", "f16", "bf16");
        var command = new Command("convert", "Convert a PyTorch checkpoint to safetensors without executing any pickled code.")
        {
            input, output, dtype,
        };
        command.SetAction(parse =>
        {
            var target = parse.GetValue(dtype) switch
            {
                "f32" => OutputDType.F32,
                "f16" => OutputDType.F16,
                "bf16" => OutputDType.BF16,
                _ => OutputDType.Keep,
            };
            ConversionResult result;
            try { result = CheckpointConverter.Convert(parse.GetValue(input)!, parse.GetValue(output), target); }
            catch (CheckpointException e) { throw new CliException(e.Message); }
            foreach (var line in ConversionReport.Lines(result)) parse.InvocationConfiguration.Output.WriteLine(line);
            return CliRunner.Success;
        });
        return command;
    }
}
