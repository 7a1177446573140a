namespace MixLens.Engine.Tokenization;

/// <summary>
/// HuggingFace's <c>BertPreTokenizer</c>: splits normalised text into words on whitespace (Rust
/// <c>char::is_whitespace</c>, removed) and isolates every punctuation char (ASCII 33-47, 58-64, 91-96, 123-126,
/// or Unicode P* of Unicode 8.0.0) as a word of its own. Empty words are dropped.
/// Source: tokenizers/src/pre_tokenizers/bert.rs.
/// </summary>
public static class BertPreTokenizer
{
    /// <summary>Appends the words of chars [from, to) of <paramref name="text"/> as [start, end) index ranges.</summary>
    public static void Split(NormalizedText text, int from, int to, List<(int Start, int End)> words)
    {
        var chars = text.Chars;
        int wordStart = from;
        for (int i = from; i < to; i++)
        {
            int c = chars[i];
            bool space = CharProperties.IsWhitespace(c);
            if (!space && !CharProperties.IsBertPunctuation(c)) continue;
            if (i > wordStart) words.Add((wordStart, i));
            if (!space) words.Add((i, i + 1));
            wordStart = i + 1;
        }
        if (to > wordStart) words.Add((wordStart, to));
    }
}
