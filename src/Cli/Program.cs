using System.CommandLine;
using MixLens.Cli;

// mixlens: load a HuggingFace encoder, tokenize, run it with every sub-step exposed, and analyse context mixing.
var root = new RootCommand("MixLens: a transformer-encoder engine that shows how tokens mix context, layer by layer.");
root.Subcommands.Add(AnalyzeCommand.Create());
root.Subcommands.Add(TraceCommand.Create());
root.Subcommands.Add(TokenizeCommand.Create());
root.Subcommands.Add(EmbedCommand.Create());
return CliRunner.Run(root, args);
