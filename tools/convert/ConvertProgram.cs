using System.CommandLine;
using MixLens.Engine.Conversion;
using MixLens.Engine.SafeTensors;

namespace MixLens.Convert;

/// <summary>
/// <c>mixlens-convert INPUT [--out PATH] [--dtype keep|f32|f16|bf16]</c>: converts a PyTorch checkpoint to safetensors
/// with <see cref="CheckpointConverter"/>. Exit codes as <c>mixlens</c>: 0 success, 1 user error (one line
/// "mixlens-convert: error: …", e.g. a refused pickle global or a malformed file), 2 usage error.
/// </summary>
public static class ConvertProgram
{
    public const int Success = 0;
    public const int UserError = 1;
    public const int UsageError = 2;

    /// <summary>The command line: the same options as <c>mixlens convert</c>.</summary>
    public static RootCommand CreateRoot()
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
        var root = new RootCommand("Convert a PyTorch checkpoint (pytorch_model.bin) to safetensors without executing any pickled code.")
        {
            input, output, dtype,
        };
        root.SetAction(parse =>
        {
            var result = CheckpointConverter.Convert(parse.GetValue(input)!, parse.GetValue(output), ParseDType(parse.GetValue(dtype)!));
            foreach (var line in ConversionReport.Lines(result)) parse.InvocationConfiguration.Output.WriteLine(line);
            return Success;
        });
        return root;
    }

    /// <summary>The <see cref="OutputDType"/> of a <c>--dtype</c> value.</summary>
    public static OutputDType ParseDType(string value) => value switch
    {
        "keep" => OutputDType.Keep,
        "f32" => OutputDType.F32,
        "f16" => OutputDType.F16,
        "bf16" => OutputDType.BF16,
        _ => throw new ArgumentOutOfRangeException(nameof(value), value, "expected keep, f32, f16 or bf16"),
    };

    /// <summary>Parses and runs <paramref name="args"/>, printing errors as one line each.</summary>
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var parse = CreateRoot().Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) stderr.WriteLine($"mixlens-convert: error: {error.Message}");
            stderr.WriteLine("Run 'mixlens-convert --help' for usage.");
            return UsageError;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (e is CheckpointException or SafeTensorsException or IOException or UnauthorizedAccessException)
        {
            stderr.WriteLine($"mixlens-convert: error: {e.Message}");
            return UserError;
        }
    }
}
