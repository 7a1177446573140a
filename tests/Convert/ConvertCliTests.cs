using MixLens.Convert;
using MixLens.Tests.Cli;

namespace MixLens.Tests.Convert;

/// <summary><c>mixlens convert</c> and the standalone <c>mixlens-convert</c>: output, one-line errors, exit codes.</summary>
public class ConvertCliTests
{
    [Fact]
    public void MixlensConvert_WritesTheFileAndSummarises()
    {
        using var temp = ConvertTestFiles.Temp();
        string output = temp.File("model.safetensors");
        var result = CliHarness.RunOk("convert", ConvertTestFiles.Fixture("pytorch_model.legacy.bin"), "--out", output);
        Assert.Equal(
            [$"wrote {output}: 26 tensors, 619,496 bytes of data (from pytorch_model.legacy.bin)",
             "converted 26 tensors (26 F32) from the legacy format; nothing in the pickle was executed"],
            result.StdoutLines);
        Assert.Equal(File.ReadAllBytes(ConvertTestFiles.Fixture("expected.safetensors")), File.ReadAllBytes(output));
    }

    [Fact]
    public void MixlensConvert_HostileCheckpoint_IsAOneLineUserError()
    {
        using var temp = ConvertTestFiles.Temp();
        string line = CliHarness.RunUserError("global 'builtins.eval' is not allowed in a checkpoint",
            "convert", ConvertTestFiles.Fixture("malicious_eval.bin"), "--out", temp.File("m.safetensors"));
        Assert.StartsWith("mixlens: error: refusing to load malicious_eval.bin", line);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }

    [Fact]
    public void MixlensConvert_BadDType_IsAUsageError()
    {
        var result = CliHarness.Run("convert", ConvertTestFiles.Fixture("pytorch_model.bin"), "--dtype", "f8");
        Assert.Equal(2, result.ExitCode);
        Assert.StartsWith("mixlens: error: Argument 'f8' not recognized", result.StderrLines[0]);
    }

    [Fact]
    public void StandaloneTool_ConvertsAndReportsErrorsWithExitCodes()
    {
        using var temp = ConvertTestFiles.Temp();
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int ok = ConvertProgram.Run([ConvertTestFiles.Fixture("pytorch_model.f16.bin"), "--out", temp.Path, "--dtype", "keep"], stdout, stderr);
        Assert.True(ok == 0, stderr.ToString());
        Assert.Equal(File.ReadAllBytes(ConvertTestFiles.Fixture("expected.f16.safetensors")), File.ReadAllBytes(temp.File("pytorch_model.f16.safetensors")));

        stderr = new StringWriter();
        Assert.Equal(ConvertProgram.UserError, ConvertProgram.Run([temp.File("missing.bin")], new StringWriter(), stderr));
        Assert.Equal($"mixlens-convert: error: checkpoint '{temp.File("missing.bin")}' not found", stderr.ToString().TrimEnd());

        stderr = new StringWriter();
        Assert.Equal(ConvertProgram.UsageError, ConvertProgram.Run([], new StringWriter(), stderr));
        Assert.StartsWith("mixlens-convert: error:", stderr.ToString());
    }
}
