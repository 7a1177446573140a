using System.Diagnostics;
using System.Text.Json;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary>The real entry point: the built <c>mixlens.dll</c> run as a child process.</summary>
[Trait("Category", "ChildProcess")]
public class CliProcessTests
{
    [Fact]
    public void MixlensDll_RunAsProcess_PrintsResultsAndOneLineErrorsWithExitCodes()
    {
        string model = SharedData.Models("random-bert-tiniest");

        var ok = RunMixlens("analyze", "--model", model, "--text", "Hello world", "--method", "rollout", "--format", "json");
        Assert.True(ok.ExitCode == 0 && ok.Stderr.Length == 0, ok.ToString());
        using (var doc = JsonDocument.Parse(ok.Stdout))
            Assert.Equal(["[CLS]", "hello", "world", "[SEP]"], doc.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray());

        var table = RunMixlens("analyze", "--model", model, "--text", "Hello world");   // stdout redirected: width from COLUMNS or 120
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.StartsWith("attention · layer 0 of 0..0 · random-bert-tiniest", table.Stdout);

        var userError = RunMixlens("analyze", "--model", Path.Combine(model, "no-such-dir"), "--text", "x");
        Assert.True(userError.ExitCode == 1, userError.ToString());
        Assert.Equal("", userError.Stdout);
        Assert.Equal([$"mixlens: error: model directory '{Path.Combine(model, "no-such-dir")}' not found"], userError.StderrLines);
        CliHarness.AssertNoStackTrace(userError.Stderr);

        var usageError = RunMixlens("analyze", "--model", model);
        Assert.True(usageError.ExitCode == 2, usageError.ToString());
        Assert.Equal("mixlens: error: Option '--text' is required.", usageError.StderrLines[0]);
        CliHarness.AssertNoStackTrace(usageError.Stderr);
    }

    /// <summary>mixlens.dll next to the test assembly (copied there by the project reference), else the Cli project's output.</summary>
    static string MixlensDll()
    {
        string beside = Path.Combine(AppContext.BaseDirectory, "mixlens.dll");
        if (File.Exists(beside) && File.Exists(Path.Combine(AppContext.BaseDirectory, "mixlens.runtimeconfig.json"))) return beside;
        string configuration = new DirectoryInfo(AppContext.BaseDirectory).Parent?.Name ?? "Release";   // bin/<configuration>/net10.0
        string built = Path.Combine(SharedData.RepoRoot, "src", "Cli", "bin", configuration, "net10.0", "mixlens.dll");
        Assert.True(File.Exists(built), $"mixlens.dll not found beside the tests ({beside}) or at {built}");
        return built;
    }

    static CliResult RunMixlens(params string[] args) => RunMixlens(new Dictionary<string, string>(), args);

    /// <summary>Runs mixlens.dll with <paramref name="environment"/> added to this process's environment.</summary>
    internal static CliResult RunMixlens(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        string dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") is { Length: > 0 } host && File.Exists(host) ? host : "dotnet";
        var start = new ProcessStartInfo(dotnet)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardOutputEncoding = System.Text.Encoding.UTF8,
            StandardErrorEncoding = System.Text.Encoding.UTF8,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(MixlensDll());
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stderr = process.StandardError.ReadToEndAsync();
        string stdout = process.StandardOutput.ReadToEnd();
        if (!process.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            process.Kill(entireProcessTree: true);
            Assert.Fail($"mixlens {string.Join(' ', args)} did not finish in 2 minutes");
        }
        return new CliResult(process.ExitCode, stdout, stderr.Result);
    }
}
