using MixLens.Cli;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary>What one in-process <c>mixlens</c> run printed and returned.</summary>
public sealed record CliResult(int ExitCode, string Stdout, string Stderr)
{
    /// <summary>The non-empty stdout lines (split on \n; the writer's \r of a Windows newline removed).</summary>
    public string[] StdoutLines => Lines(Stdout);
    public string[] StderrLines => Lines(Stderr);

    static string[] Lines(string s) => s.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).ToArray();

    public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
}

/// <summary>Runs the CLI in-process through <see cref="CliRunner"/> with the same command tree as the binary.</summary>
public static class CliHarness
{
    public static string Model(string name) => SharedData.Models(name);

    public static CliResult Run(params string[] args)
    {
        var stdout = new StringWriter();
        var stderr = new StringWriter();
        int exit = CliRunner.Run(CliApp.CreateRoot(), args, stdout, stderr);
        return new CliResult(exit, stdout.ToString(), stderr.ToString());
    }

    /// <summary>Runs a command that must succeed, with stderr empty.</summary>
    public static CliResult RunOk(params string[] args)
    {
        var result = Run(args);
        Assert.True(result.ExitCode == 0 && result.Stderr.Length == 0, $"mixlens {string.Join(' ', args)}: {result}");
        return result;
    }

    /// <summary>
    /// Runs a command that must fail with a user error: exit code <see cref="CliRunner.UserError"/>, nothing on stdout,
    /// exactly one stderr line "mixlens: error: …" containing <paramref name="phrase"/>, and no stack trace.
    /// </summary>
    public static string RunUserError(string phrase, params string[] args)
    {
        var result = Run(args);
        string context = $"mixlens {string.Join(' ', args)}: {result}";
        Assert.True(result.ExitCode == CliRunner.UserError, $"expected exit {CliRunner.UserError}; {context}");
        Assert.True(result.Stdout.Length == 0, $"expected no stdout; {context}");
        AssertNoStackTrace(result.Stderr);
        var lines = result.StderrLines;
        Assert.True(lines.Length == 1, $"expected one stderr line; {context}");
        Assert.StartsWith("mixlens: error: ", lines[0]);
        Assert.Contains(phrase, lines[0]);
        return lines[0];
    }

    /// <summary>Asserts a usage error (exit 2) whose first stderr line contains <paramref name="phrase"/>.</summary>
    public static string RunUsageError(string phrase, params string[] args)
    {
        var result = Run(args);
        string context = $"mixlens {string.Join(' ', args)}: {result}";
        Assert.True(result.ExitCode == CliRunner.UsageError, $"expected exit {CliRunner.UsageError}; {context}");
        AssertNoStackTrace(result.Stderr);
        var lines = result.StderrLines;
        Assert.True(lines.Length >= 1, context);
        Assert.StartsWith("mixlens: error: ", lines[0]);
        Assert.Contains(phrase, lines[0]);
        return lines[0];
    }

    public static void AssertNoStackTrace(string stderr)
    {
        Assert.DoesNotContain("   at ", stderr);
        Assert.DoesNotContain("Unhandled exception", stderr);
        Assert.DoesNotContain("Exception:", stderr);
    }
}

/// <summary>A temporary folder, deleted on dispose.</summary>
public sealed class TempFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("mixlens-cli-tests-").FullName;

    public string File(string name) => System.IO.Path.Combine(Path, name);

    /// <summary>A sub-folder holding copies of <paramref name="files"/> from model <paramref name="model"/> (writable copies).</summary>
    public string ModelCopy(string name, string model, params string[] files)
    {
        string dir = System.IO.Path.Combine(Path, name);
        Directory.CreateDirectory(dir);
        foreach (var f in files)
        {
            string target = System.IO.Path.Combine(dir, f);
            System.IO.File.WriteAllBytes(target, System.IO.File.ReadAllBytes(System.IO.Path.Combine(SharedData.Models(model), f)));
        }
        return dir;
    }

    public void Dispose()
    {
        try { Directory.Delete(Path, recursive: true); }
        catch (IOException) { }
        catch (UnauthorizedAccessException) { }
    }
}
