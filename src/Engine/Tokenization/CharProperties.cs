namespace MixLens.Engine.Tokenization;

/// <summary>
/// The per-character predicates and mappings HuggingFace tokenizers applies, reproduced exactly, including the
/// Unicode versions they are frozen at (which differ from .NET's <see cref="System.Globalization.CharUnicodeInfo"/>):
/// <list type="bullet">
/// <item><see cref="IsWhitespace"/>: Rust std <c>char::is_whitespace</c> (Unicode White_Space).</item>
/// <item><see cref="IsOther"/>, <see cref="IsMarkNonspacing"/>, <see cref="IsPunctuation"/>: the
/// <c>unicode_categories</c> 0.1.1 crate, Unicode 8.0.0. <c>is_other</c> is Cc | Cf | Co only: unassigned
/// code points (and noncharacters such as U+FDD0, U+FFFE) are not "other" and survive clean_text.</item>
/// <item><see cref="AppendLowercase"/>: Rust std <c>char::to_lowercase</c>, per char, no context (no final sigma;
/// U+0130 gives two chars).</item>
/// </list>
/// Code points are ints; a lone UTF-16 surrogate is treated as the code point of its value (HF never sees one,
/// since Rust strings cannot hold it; here it is an ordinary, non-space, non-punctuation char).
/// Source: tokenizers/src/normalizers/bert.rs, tokenizers/src/pre_tokenizers/bert.rs.
/// </summary>
public static class CharProperties
{
    /// <summary>Rust <c>char::is_whitespace</c>: U+0009..U+000D, U+0020, U+0085, U+00A0, U+1680, U+2000..U+200A,
    /// U+2028, U+2029, U+202F, U+205F, U+3000. (BertNormalizer's own <c>is_whitespace</c> adds \t, \n, \r,
    /// which this already holds.)</summary>
    public static bool IsWhitespace(int c) => c switch
    {
        >= 0x9 and <= 0xD or 0x20 or 0x85 or 0xA0 or 0x1680 => true,
        >= 0x2000 and <= 0x200A or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>BertNormalizer's <c>is_control</c>: <see cref="IsOther"/> except \t, \n, \r.</summary>
    public static bool IsBertControl(int c) => c is not ('\t' or '\n' or '\r') && IsOther(c);

    /// <summary><c>unicode_categories::is_other</c>: Cc, Cf or Co in Unicode 8.0.0.</summary>
    public static bool IsOther(int c) =>
        (uint)c < BmpSize ? (s_bmp[c] & OtherFlag) != 0 : InRanges(UnicodeTables.Other, c);

    /// <summary><c>unicode_categories::is_mark_nonspacing</c>: Mn in Unicode 8.0.0.</summary>
    public static bool IsMarkNonspacing(int c) =>
        (uint)c < BmpSize ? (s_bmp[c] & MarkNonspacingFlag) != 0 : InRanges(UnicodeTables.MarkNonspacing, c);

    /// <summary><c>unicode_categories::is_punctuation</c>: P* in Unicode 8.0.0.</summary>
    public static bool IsPunctuation(int c) =>
        (uint)c < BmpSize ? (s_bmp[c] & PunctuationFlag) != 0 : InRanges(UnicodeTables.Punctuation, c);

    /// <summary>BertPreTokenizer's <c>is_bert_punc</c>: ASCII punctuation (33-47, 58-64, 91-96, 123-126) or
    /// <see cref="IsPunctuation"/>.</summary>
    public static bool IsBertPunctuation(int c) =>
        (uint)c < BmpSize ? (s_bmp[c] & BertPunctuationFlag) != 0 : InRanges(UnicodeTables.Punctuation, c);

    /// <summary>
    /// Whether the char may have a nonzero canonical combining class, so that NFD may reorder it: a mark
    /// (Mn, Mc, Me) or a code point .NET does not know, by .NET's current Unicode data.
    /// </summary>
    public static bool MayCombine(int c)
    {
        if ((uint)c < BmpSize) return (s_bmp[c] & MayCombineFlag) != 0;
        if (c > 0x10FFFF) return false;
        return System.Text.Rune.GetUnicodeCategory(new System.Text.Rune(c)) is System.Globalization.UnicodeCategory.NonSpacingMark
            or System.Globalization.UnicodeCategory.SpacingCombiningMark or System.Globalization.UnicodeCategory.EnclosingMark
            or System.Globalization.UnicodeCategory.OtherNotAssigned;
    }

    /// <summary>BertNormalizer's <c>is_chinese_char</c>: the CJK Unified Ideograph blocks (not kana, not hangul).</summary>
    public static bool IsChineseChar(int c) => c switch
    {
        >= 0x4E00 and <= 0x9FFF => true,
        >= 0x3400 and <= 0x4DBF => true,
        >= 0x20000 and <= 0x2A6DF => true,
        >= 0x2A700 and <= 0x2B73F => true,
        >= 0x2B740 and <= 0x2B81F => true,
        >= 0x2B920 and <= 0x2CEAF => true,
        >= 0xF900 and <= 0xFAFF => true,
        >= 0x2F800 and <= 0x2FA1F => true,
        _ => false,
    };

    /// <summary>
    /// Rust regex <c>\w</c> (Unicode): alphabetic, marks, decimal digits, connector punctuation, ZWNJ/ZWJ.
    /// Approximated with .NET's categories (letters, letter numbers, marks, Nd, Pc); used only for added tokens
    /// with <c>single_word</c>.
    /// </summary>
    public static bool IsWordChar(int c)
    {
        if (c < 0x80) return c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9' or '_';
        if (c is 0x200C or 0x200D) return true;
        if (c is >= 0xD800 and <= 0xDFFF || c > 0x10FFFF) return false;
        return System.Text.Rune.GetUnicodeCategory(new System.Text.Rune(c)) switch
        {
            System.Globalization.UnicodeCategory.UppercaseLetter or System.Globalization.UnicodeCategory.LowercaseLetter
                or System.Globalization.UnicodeCategory.TitlecaseLetter or System.Globalization.UnicodeCategory.ModifierLetter
                or System.Globalization.UnicodeCategory.OtherLetter or System.Globalization.UnicodeCategory.LetterNumber
                or System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark
                or System.Globalization.UnicodeCategory.EnclosingMark or System.Globalization.UnicodeCategory.DecimalDigitNumber
                or System.Globalization.UnicodeCategory.ConnectorPunctuation => true,
            _ => false,
        };
    }

    /// <summary>
    /// Rust <c>char::to_lowercase</c> of one char: writes its 1 or 2 chars into <paramref name="destination"/>
    /// and returns how many. Only U+0130 gives 2 ("i" + U+0307).
    /// </summary>
    public static int AppendLowercase(int c, Span<int> destination)
    {
        if (c < 0x80)
        {
            destination[0] = c is >= 'A' and <= 'Z' ? c + 32 : c;
            return 1;
        }
        if (c == UnicodeTables.DottedCapitalI)
        {
            destination[0] = 'i';
            destination[1] = 0x307;
            return 2;
        }
        int i = UnicodeTables.LowercaseFrom.BinarySearch(c);
        destination[0] = i >= 0 ? UnicodeTables.LowercaseTo[i] : c;
        return 1;
    }

    // Flags of every BMP code point, from the range tables (supplementary chars search the tables).
    const int BmpSize = 0x10000;
    const byte OtherFlag = 1, MarkNonspacingFlag = 2, PunctuationFlag = 4, BertPunctuationFlag = 8, MayCombineFlag = 16;
    static readonly byte[] s_bmp = BuildBmpFlags();

    static byte[] BuildBmpFlags()
    {
        var flags = new byte[BmpSize];
        Mark(flags, UnicodeTables.Other, OtherFlag);
        Mark(flags, UnicodeTables.MarkNonspacing, MarkNonspacingFlag);
        Mark(flags, UnicodeTables.Punctuation, PunctuationFlag | BertPunctuationFlag);
        foreach (var (first, last) in new[] { (33, 47), (58, 64), (91, 96), (123, 126) })
            for (int c = first; c <= last; c++) flags[c] |= BertPunctuationFlag;
        for (int c = 0x300; c < BmpSize; c++)
        {
            if (c is >= 0xD800 and <= 0xDFFF) continue;
            if (System.Globalization.CharUnicodeInfo.GetUnicodeCategory((char)c) is System.Globalization.UnicodeCategory.NonSpacingMark
                or System.Globalization.UnicodeCategory.SpacingCombiningMark or System.Globalization.UnicodeCategory.EnclosingMark
                or System.Globalization.UnicodeCategory.OtherNotAssigned)
                flags[c] |= MayCombineFlag;
        }
        return flags;

        static void Mark(byte[] flags, ReadOnlySpan<int> ranges, int flag)
        {
            for (int r = 0; r < ranges.Length; r += 2)
                for (int c = ranges[r]; c <= Math.Min(ranges[r + 1], BmpSize - 1); c++) flags[c] |= (byte)flag;
        }
    }

    /// <summary>Whether c falls in one of the inclusive [first, last] pairs of a sorted range table.</summary>
    static bool InRanges(ReadOnlySpan<int> ranges, int c)
    {
        int lo = 0, hi = ranges.Length / 2 - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            if (c < ranges[2 * mid]) hi = mid - 1;
            else if (c > ranges[2 * mid + 1]) lo = mid + 1;
            else return true;
        }
        return false;
    }
}
