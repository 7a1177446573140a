using System.CommandLine;

namespace MixLens.Cli;

/// <summary>The <c>mixlens</c> command tree, shared by the entry point and the in-process tests.</summary>
public static class CliApp
{
    /// <summary>The root command with every sub-command: analyze, trace, tokenize, embed, classify, fill-mask, tag,
    /// evaluate, convert, view.</summary>
    public static RootCommand CreateRoot()
    {
        var root = new RootCommand("MixLens: a transformer-encoder engine that shows how tokens mix context, layer by layer.");
        root.Subcommands.Add(AnalyzeCommand.Create());
        root.Subcommands.Add(AnalyzeCorpusCommand.Create());
        root.Subcommands.Add(TraceCommand.Create());
        root.Subcommands.Add(TokenizeCommand.Create());
        root.Subcommands.Add(EmbedCommand.Create());
        root.Subcommands.Add(ClassifyCommand.Create());
        root.Subcommands.Add(FillMaskCommand.Create());
        root.Subcommands.Add(TagCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(ViewCommand.Create());
        return root;
    }

    /// <summary>Parses and runs <paramref name="args"/> (see <see cref="CliRunner.Run"/>).</summary>
    public static int Run(string[] args, TextWriter? stdout = null, TextWriter? stderr = null) =>
        CliRunner.Run(CreateRoot(), args, stdout, stderr);
}
