using System.Diagnostics;
using MixLens.Engine.Conversion;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Convert;

/// <summary>
/// Hostile pickles are refused with an error naming the global, nothing is written, and nothing runs: each fixture's
/// payload would create <c>mixlens_pwned</c> in the working directory.
/// </summary>
public class HostileCheckpointTests
{
    public static TheoryData<string, string> Hostile => new()
    {
        { "malicious_os_system.bin", "posix.system" },    // os.system pickles as posix.system on Linux
        { "malicious_eval.bin", "builtins.eval" },        // pickled as __builtin__.eval (protocol 2)
        { "malicious_legacy.bin", "subprocess.Popen" },   // legacy format, pickled as commands.Popen
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void HostileFixture_IsRefusedNamingTheGlobal_AndNothingIsWritten(string file, string global)
    {
        using var temp = ConvertTestFiles.Temp();
        string output = temp.File("model.safetensors");

        var e = Assert.Throws<UnsafeCheckpointException>(() => CheckpointConverter.Convert(ConvertTestFiles.Fixture(file), output));

        Assert.Equal(global, e.GlobalName);
        Assert.StartsWith($"refusing to load {file}: global '{global}'", e.Message);
        Assert.Contains("is not allowed in a checkpoint", e.Message);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));
    }

    [Fact]
    public void OsSystem_IsAlsoNamedAsOsSystem()
    {
        var e = Assert.Throws<UnsafeCheckpointException>(() => TorchCheckpoint.Open(ConvertTestFiles.Fixture("malicious_os_system.bin")).Dispose());
        Assert.Contains("'posix.system' (os.system)", e.Message);
    }

    [Fact]
    public void StackGlobalOfProtocol4_IsRefusedToo()
    {
        using var temp = ConvertTestFiles.Temp();
        // {'x': builtins.exec("...")} written with STACK_GLOBAL and MEMOIZE, as protocol 4 pickles do.
        byte[] pickle = new PickleBuilder(protocol: 4)
            .Op('}').Op(0x94).Str("x").Op(0x94)
            .Str("builtins").Op(0x94).Str("exec").Op(0x94).Op(0x93).Op(0x94)
            .Str("open('mixlens_pwned', 'w')").Op(0x85).Op('R').Op('s').Stop();
        string path = temp.File("stack_global.bin");
        ConvertTestFiles.WriteZip(path, pickle);

        var e = Assert.Throws<UnsafeCheckpointException>(() => CheckpointConverter.Convert(path, temp.File("out.safetensors")));
        Assert.Equal("builtins.exec", e.GlobalName);
        Assert.False(File.Exists(temp.File("out.safetensors")));
    }

    [Fact]
    public void AllowedGlobalsOutsideTheirRole_AreRejected()
    {
        using var temp = ConvertTestFiles.Temp();
        // torch.FloatStorage is allowed as a storage class but may not be called.
        byte[] pickle = new PickleBuilder().Op('}').Str("x").Global("torch", "FloatStorage").Op(')').Op('R').Op('s').Stop();
        string path = temp.File("call_storage.bin");
        ConvertTestFiles.WriteZip(path, pickle);

        var e = Assert.Throws<CheckpointException>(() => CheckpointConverter.Convert(path, temp.File("out.safetensors")));
        Assert.Contains("'torch.FloatStorage' cannot be called", e.Message);
    }

    /// <summary>The real executable, run in an empty working directory: exit 1, one line naming the global, no payload effect.</summary>
    [Trait("Category", "ChildProcess")]
    [Theory]
    [MemberData(nameof(Hostile))]
    public void ConvertExecutable_InTempWorkingDirectory_RefusesAndNothingRuns(string file, string global)
    {
        using var temp = ConvertTestFiles.Temp();
        var (exit, stdout, stderr) = RunConvertProcess(temp.Path, ConvertTestFiles.Fixture(file), "--out", temp.File("model.safetensors"));

        Assert.True(exit == 1, $"exit {exit}\n{stdout}\n{stderr}");
        Assert.Equal("", stdout);
        var lines = stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal($"mixlens-convert: error: refusing to load {file}: global '{global}'", Assert.Single(lines)[..$"mixlens-convert: error: refusing to load {file}: global '{global}'".Length]);
        Assert.Empty(Directory.EnumerateFileSystemEntries(temp.Path));   // no mixlens_pwned, no output
        Assert.False(File.Exists(Path.Combine(Environment.CurrentDirectory, "mixlens_pwned")));
        Assert.False(File.Exists(Path.Combine(SharedData.RepoRoot, "mixlens_pwned")));
        Assert.False(File.Exists(Path.Combine(Path.GetDirectoryName(ConvertTestFiles.Fixture(file))!, "mixlens_pwned")));
    }

    internal static (int Exit, string Stdout, string Stderr) RunConvertProcess(string workingDirectory, params string[] args)
    {
        string dll = ConvertDll();
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail("mixlens-convert did not finish in 2 minutes");
        }
        return (process.ExitCode, stdout, stderr.Result);
    }

    /// <summary>mixlens-convert.dll beside the tests (copied by the project reference), else the tool's own output.</summary>
    static string ConvertDll()
    {
        string beside = Path.Combine(AppContext.BaseDirectory, "mixlens-convert.dll");
        if (File.Exists(beside) && File.Exists(Path.Combine(AppContext.BaseDirectory, "mixlens-convert.runtimeconfig.json"))) return beside;
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Release";
        string built = Path.Combine(SharedData.RepoRoot, "tools", "convert", "bin", configuration, "net10.0", "mixlens-convert.dll");
        Assert.True(File.Exists(built), $"mixlens-convert.dll not found beside the tests ({beside}) or at {built}");
        return built;
    }
}
