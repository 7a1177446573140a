namespace MixLens.Engine.Tokenization;

/// <summary>
/// A token of the added vocabulary (tokenizer.json <c>added_tokens</c>): its content and id, and how it is matched in
/// text: <see cref="Normalized"/> false matches the raw text before normalisation (special tokens such as [MASK] are
/// stored that way), true matches the normalised text against the normalised content; <see cref="SingleWord"/> only
/// matches when not glued to word chars; <see cref="Lstrip"/>/<see cref="Rstrip"/> take the whitespace on that side
/// into the token. <see cref="Special"/> marks special tokens (skipped when decoding).
/// Defaults follow HF's deserialisation (<c>normalized</c> true, the flags false).
/// Source: tokenizers/src/tokenizer/added_vocabulary.rs (<c>AddedToken</c>).
/// </summary>
public sealed record AddedToken(
    string Content,
    int Id,
    bool Special = false,
    bool SingleWord = false,
    bool Lstrip = false,
    bool Rstrip = false,
    bool Normalized = true);
