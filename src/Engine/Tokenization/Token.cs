namespace MixLens.Engine.Tokenization;

/// <summary>
/// One token out of the model or the added vocabulary: its id, its string (the vocabulary entry, e.g. "##ing",
/// or the matched text of an added token) and its span [Start, End) in the original text, in UTF-16 code units.
/// Source: tokenizers/src/tokenizer/mod.rs (<c>Token</c>).
/// </summary>
public readonly record struct Token(int Id, string Value, int Start, int End);
