namespace MixLens.Engine.Tokenization;

/// <summary>
/// HuggingFace's <c>BertNormalizer</c>, in its order:
/// <list type="number">
/// <item>clean_text: drop U+0000, U+FFFD and every Cc/Cf/Co char of Unicode 8.0.0 except \t \n \r (noncharacters
/// and unassigned code points stay), then map every whitespace char to ' '.</item>
/// <item>handle_chinese_chars: a space before and after every CJK ideograph.</item>
/// <item>strip_accents (null means: same as lowercase): NFD, then drop Mn chars of Unicode 8.0.0. Hangul syllables
/// become conjoining jamo (not Mn, so they stay); Mc stays.</item>
/// <item>lowercase: Rust <c>char::to_lowercase</c> per char (no final sigma; U+0130 gives "i" + U+0307).</item>
/// </list>
/// Source: tokenizers/src/normalizers/bert.rs.
/// </summary>
public sealed class BertNormalizer : INormalizer
{
    /// <summary>Remove control chars and map whitespace to ' '.</summary>
    public bool CleanText { get; }
    /// <summary>Put spaces around CJK ideographs.</summary>
    public bool HandleChineseChars { get; }
    /// <summary>NFD then remove nonspacing marks (already resolved: a null strip_accents became <see cref="Lowercase"/>).</summary>
    public bool StripAccents { get; }
    /// <summary>Lowercase every char.</summary>
    public bool Lowercase { get; }

    /// <summary>Builds the normalizer; <paramref name="stripAccents"/> null means "same as <paramref name="lowercase"/>", as in HF.</summary>
    public BertNormalizer(bool cleanText = true, bool handleChineseChars = true, bool? stripAccents = null, bool lowercase = true)
    {
        CleanText = cleanText;
        HandleChineseChars = handleChineseChars;
        StripAccents = stripAccents ?? lowercase;
        Lowercase = lowercase;
    }

    /// <inheritdoc/>
    public void Normalize(NormalizedText text)
    {
        if (CleanText)
        {
            text.Filter(static c => !(c == 0 || c == 0xFFFD || CharProperties.IsBertControl(c)));
            text.Map(static c => CharProperties.IsWhitespace(c) ? ' ' : c);
        }
        if (HandleChineseChars) text.PadWithSpaces(CharProperties.IsChineseChar);
        if (StripAccents)
        {
            text.Nfd();
            text.Filter(static c => !CharProperties.IsMarkNonspacing(c));
        }
        if (Lowercase) text.Lowercase();
    }
}
