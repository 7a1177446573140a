namespace MixLens.Engine.Tokenization;

/// <summary>
/// A tokenizer could not be loaded or built: a missing or malformed file (tokenizer.json, vocab.txt,
/// tokenizer_config.json), an unsupported tokenizer type (BPE, Unigram, ...), or an inconsistent configuration
/// (a vocabulary without its unk token, a template naming an unknown special token, ...). The message names the
/// file or directory and what is wrong with it.
/// </summary>
public sealed class TokenizerException : Exception
{
    public TokenizerException(string message) : base(message) { }
    public TokenizerException(string message, Exception inner) : base(message, inner) { }
}
