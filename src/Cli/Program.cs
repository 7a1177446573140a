using MixLens.Cli;

// mixlens: load a HuggingFace encoder, tokenize, run it with every sub-step exposed, and analyse context mixing.
return CliApp.Run(args);
