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
        // clean_text in one pass; on an all-ASCII text that pass also lowercases, and nothing else applies (no CJK
        // ideograph, nothing decomposes, no nonspacing mark).
        bool ascii = text.IsAscii();
        var clean = new CleanAndLower(CleanText, Lowercase && ascii);
        if (clean.Clean || clean.Lower) text.FilterMap(ref clean);
        if (ascii) return;
        if (HandleChineseChars && (clean.SawChinese || !CleanText)) text.PadWithSpaces(CharProperties.IsChineseChar);
        if (StripAccents)
        {
            text.Nfd();
            var strip = new DropNonspacingMarks();
            text.FilterMap(ref strip);
        }
        if (Lowercase) text.Lowercase();
    }

    /// <summary>clean_text (drop U+0000, U+FFFD and controls, whitespace to ' ') and ASCII lowercasing; notes
    /// whether a CJK ideograph was kept.</summary>
    struct CleanAndLower(bool clean, bool lower) : ICharMap
    {
        public readonly bool Clean = clean, Lower = lower;
        public bool SawChinese;

        public int Map(int c)
        {
            if (Clean)
            {
                if (c == 0 || c == 0xFFFD || CharProperties.IsBertControl(c)) return -1;
                if (CharProperties.IsWhitespace(c)) return ' ';
            }
            if (Lower && (uint)(c - 'A') <= 'Z' - 'A') return c + 32;
            if (c >= 0x3400) SawChinese |= CharProperties.IsChineseChar(c);
            return c;
        }
    }

    /// <summary>strip_accents' filter: drops Mn chars.</summary>
    struct DropNonspacingMarks : ICharMap
    {
        public readonly int Map(int c) => CharProperties.IsMarkNonspacing(c) ? -1 : c;
    }
}
