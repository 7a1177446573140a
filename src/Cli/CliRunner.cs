using System.CommandLine;
using MixLens.Engine.Hub;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Engine.Tokenization;

namespace MixLens.Cli;

/// <summary>
/// Parses and runs a command. User errors (bad arguments, missing or malformed model files, over-long input) print
/// one line to stderr, "mixlens: error: …", and exit with <see cref="UserError"/>; only a bug shows a stack trace.
/// </summary>
public static class CliRunner
{
    public const int Success = 0;
    public const int UserError = 1;
    public const int UsageError = 2;

    public static int Run(RootCommand root, string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        stdout ??= Console.Out;
        stderr ??= Console.Error;
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0)
        {
            foreach (var error in parse.Errors) stderr.WriteLine($"mixlens: error: {error.Message}");
            stderr.WriteLine($"Run '{string.Join(' ', parse.CommandResult.Command.Name == root.Name ? "mixlens" : "mixlens " + parse.CommandResult.Command.Name)} --help' for usage.");
            return UsageError;
        }
        try
        {
            var invocation = new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false };
            return parse.Invoke(invocation);
        }
        catch (Exception e) when (IsUserError(e))
        {
            stderr.WriteLine($"mixlens: error: {e.Message}");
            return UserError;
        }
    }

    static bool IsUserError(Exception e) => e is CliException or ModelFormatException or SafeTensorsException
        or TokenizerException or EncoderInputException or HubException or FileNotFoundException or DirectoryNotFoundException
        or UnauthorizedAccessException or IOException;
}

/// <summary>A user error found by a command (bad option value, missing input file): reported in one line.</summary>
public sealed class CliException(string message) : Exception(message);
