namespace MixLens.Engine.Tokenization;

/// <summary>
/// The pre-tokenisation of SentencePiece-style tokenizers: optionally HF's <c>WhitespaceSplit</c> (split on Unicode
/// White_Space, which is removed), then <c>Metaspace</c>: every ' ' becomes <see cref="Replacement"/> ('▁'), a
/// '▁' is put before a word that does not start with one (<see cref="PrependScheme"/> "always", or "first" for the
/// word at the start of the text only), and with <see cref="Split"/> the word is cut before every '▁'
/// (MergedWithNext). The prepended '▁' takes the span of the word's first char, so a '▁' that ends up a token of
/// its own overlaps the next token.
/// Source: tokenizers/src/pre_tokenizers/whitespace.rs (<c>WhitespaceSplit</c>), metaspace.rs; normalizer.rs
/// (<c>prepend</c>, <c>split</c> with <c>MergedWithNext</c>).
/// </summary>
public sealed class MetaspacePreTokenizer
{
    /// <summary>How the replacement char is put before a word.</summary>
    public enum Prepend { Always, First, Never }

    /// <summary>Whether words are first split on whitespace (a <c>Sequence[WhitespaceSplit, Metaspace]</c>).</summary>
    public bool WhitespaceSplit { get; }
    /// <summary>The char that stands for a space ('▁', U+2581).</summary>
    public int Replacement { get; }
    /// <summary>When a replacement char is put before a word.</summary>
    public Prepend PrependScheme { get; }
    /// <summary>Whether words are cut before each replacement char.</summary>
    public bool Split { get; }

    /// <summary>Configures the pre-tokenizer.</summary>
    public MetaspacePreTokenizer(bool whitespaceSplit, int replacement = '\u2581', Prepend prependScheme = Prepend.Always, bool split = true)
    {
        WhitespaceSplit = whitespaceSplit;
        Replacement = replacement;
        PrependScheme = prependScheme;
        Split = split;
    }

    /// <summary>Appends the words of chars [from, to) of <paramref name="text"/>, each a text of its own.</summary>
    public void PreTokenize(NormalizedText text, int from, int to, List<NormalizedText> words)
    {
        if (!WhitespaceSplit)
        {
            if (to > from) Metaspace(text.Slice(from, to), words);
            return;
        }
        int i = from;
        while (i < to)
        {
            while (i < to && CharProperties.IsWhitespace(text[i])) i++;
            int start = i;
            while (i < to && !CharProperties.IsWhitespace(text[i])) i++;
            if (i > start) Metaspace(text.Slice(start, i), words);
        }
    }

    void Metaspace(NormalizedText word, List<NormalizedText> words)
    {
        int replacement = Replacement;
        word.Map(c => c == ' ' ? replacement : c);
        bool prepend = PrependScheme switch
        {
            Prepend.Always => true,
            Prepend.First => word.Length > 0 && word.Alignment(0).Start == 0,
            _ => false,
        };
        if (prepend && word.Length > 0 && word[0] != Replacement) word.Prepend(Replacement);
        if (!Split)
        {
            if (word.Length > 0) words.Add(word);
            return;
        }
        int start = 0;
        for (int i = 1; i <= word.Length; i++)
        {
            if (i < word.Length && word[i] != Replacement) continue;
            words.Add(start == 0 && i == word.Length ? word : word.Slice(start, i));
            start = i;
        }
    }
}
