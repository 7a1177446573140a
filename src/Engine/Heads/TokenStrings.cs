using System.Text;
using MixLens.Engine.Tokenization;

namespace MixLens.Engine.Heads;

/// <summary>
/// What HF's token-classification pipeline reads from a fast tokenizer to group sub-words into words: its model's
/// <c>continuing_subword_prefix</c>, its unknown-token id, and <c>convert_tokens_to_string</c> (the tokenizer.json
/// decoder of each kind: WordPiece, ByteLevel, Metaspace; Rust <c>tokenizers/src/decoders</c>).
/// </summary>
internal static class TokenStrings
{
    /// <summary>
    /// True when the tokenizer's model marks word continuations with a prefix (WordPiece's <c>##</c>, a BPE model's
    /// <c>continuing_subword_prefix</c>): HF then tells a sub-word by its token being longer than its text span;
    /// otherwise (byte-level BPE, Unigram) by the text around the span.
    /// </summary>
    public static bool HasContinuingSubwordPrefix(ITokenizer tokenizer) => tokenizer switch
    {
        WordPieceTokenizer w => w.Model.ContinuingSubwordPrefix.Length > 0,
        BpeTokenizer b => b.Model.ContinuingSubwordPrefix.Length > 0,
        _ => false,
    };

    /// <summary>The id of the tokenizer's unknown token, or null when it has none.</summary>
    public static int? UnkId(ITokenizer tokenizer) => tokenizer switch
    {
        WordPieceTokenizer w => w.Model.UnkId,
        BpeTokenizer b => b.Model.UnkToken is { } unk ? b.TokenToId(unk) : null,
        UnigramTokenizer u => u.Model.UnkId,
        _ => null,
    };

    /// <summary>
    /// HF's <c>convert_tokens_to_string</c> for a fast tokenizer (its decoder's <c>decode</c>):
    /// WordPiece — every token but the first gets a space before it unless it starts with the prefix (<c>##</c>),
    /// which is dropped, then each is cleaned up (" ." → ".", " n't" → "n't", …; decoders/wordpiece.rs);
    /// byte-level BPE — the tokens' byte-alphabet chars back to bytes (a token with a char outside the alphabet
    /// keeps its own UTF-8 bytes), decoded as UTF-8 (decoders/byte_level.rs);
    /// Unigram — <c>▁</c> becomes a space, except in the first token, where it is dropped unless the prepend scheme
    /// is "never" (Metaspace decoder).
    /// </summary>
    public static string Join(ITokenizer tokenizer, IReadOnlyList<string> tokens) => tokenizer switch
    {
        WordPieceTokenizer w => JoinWordPiece(tokens, w.Model.ContinuingSubwordPrefix),
        BpeTokenizer => JoinByteLevel(tokens),
        UnigramTokenizer u => JoinMetaspace(tokens, char.ConvertFromUtf32(u.PreTokenizer.Replacement),
            u.PreTokenizer.PrependScheme != MetaspacePreTokenizer.Prepend.Never),
        _ => string.Concat(tokens),
    };

    static string JoinWordPiece(IReadOnlyList<string> tokens, string prefix)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < tokens.Count; i++)
        {
            string token = tokens[i];
            if (i != 0)
                token = prefix.Length > 0 && token.StartsWith(prefix, StringComparison.Ordinal) ? token[prefix.Length..] : " " + token;
            sb.Append(Cleanup(token));
        }
        return sb.ToString();
    }

    /// <summary>The WordPiece decoder's cleanup (HF <c>clean_up_tokenization</c>), applied to each token.</summary>
    static string Cleanup(string s) => s
        .Replace(" .", ".").Replace(" ?", "?").Replace(" !", "!").Replace(" ,", ",").Replace(" ' ", "'")
        .Replace(" n't", "n't").Replace(" 'm", "'m").Replace(" do not", " don't").Replace(" 's", "'s")
        .Replace(" 've", "'ve").Replace(" 're", "'re");

    static readonly Dictionary<char, byte> s_charToByte =
        ByteLevel.ByteToChar.Select((c, b) => (c, b)).ToDictionary(p => p.c, p => (byte)p.b);

    static string JoinByteLevel(IReadOnlyList<string> tokens)
    {
        var bytes = new List<byte>();
        foreach (var token in tokens)
        {
            if (token.All(s_charToByte.ContainsKey)) bytes.AddRange(token.Select(c => s_charToByte[c]));
            else bytes.AddRange(System.Text.Encoding.UTF8.GetBytes(token));
        }
        return System.Text.Encoding.UTF8.GetString(bytes.ToArray());
    }

    static string JoinMetaspace(IReadOnlyList<string> tokens, string replacement, bool dropInFirst)
    {
        var sb = new StringBuilder();
        for (int i = 0; i < tokens.Count; i++)
            sb.Append(tokens[i].Replace(replacement, i == 0 && dropInFirst ? "" : " "));
        return sb.ToString();
    }
}
