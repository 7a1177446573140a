using System.Globalization;
using System.Text;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// GPT-2's byte-level pieces, as HuggingFace's <c>ByteLevel</c> pre-tokenizer and post-processor apply them:
/// <list type="bullet">
/// <item><see cref="Split"/>: the GPT-2 pre-tokenization regex
/// <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>, matched as Oniguruma does
/// (leftmost, first alternative that matches, greedy with backtracking) over code points, so that letters outside
/// the BMP are letters (a .NET <see cref="System.Text.RegularExpressions.Regex"/> would see their surrogates as
/// "other"). Every char is matched by some alternative, so the matches tile the text.</item>
/// <item><see cref="ByteToChar"/>: the byte-to-unicode alphabet (printable bytes map to themselves, the other 68 to
/// U+0100 onwards in byte order), which makes every UTF-8 byte a visible vocabulary char (space = 'Ġ').</item>
/// <item><see cref="TrimOffsets"/>: <c>process_offsets</c> of the ByteLevel/RoBERTa post-processors (trim_offsets).</item>
/// </list>
/// Source: tokenizers/src/pre_tokenizers/byte_level.rs (<c>bytes_char</c>, <c>ByteLevel::pre_tokenize</c>,
/// <c>process_offsets</c>); openai/gpt-2 src/encoder.py (<c>bytes_to_unicode</c>, the pattern).
/// </summary>
public static class ByteLevel
{
    /// <summary>The char each byte value stands for in a byte-level vocabulary.</summary>
    public static IReadOnlyList<char> ByteToChar => s_byteToChar;

    /// <summary>The char a byte-level vocabulary uses for the space byte (U+0120, 'Ġ').</summary>
    public const char SpaceChar = '\u0120';

    static readonly char[] s_byteToChar = BuildByteToChar();

    static char[] BuildByteToChar()
    {
        var table = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
        {
            bool printable = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
            table[b] = printable ? (char)b : (char)next++;
        }
        return table;
    }

    /// <summary>
    /// The pieces of chars [from, to) of <paramref name="chars"/> under the GPT-2 regex, as [start, end) pairs
    /// appended to <paramref name="splits"/> in order; they cover the range without gaps.
    /// </summary>
    public static void Split(ReadOnlySpan<int> chars, int from, int to, List<(int Start, int End)> splits)
    {
        int i = from;
        while (i < to)
        {
            int end = MatchAt(chars, i, to);
            splits.Add((i, end));
            i = end;
        }
    }

    /// <summary>End of the regex match starting at <paramref name="i"/> (always &gt; i).</summary>
    static int MatchAt(ReadOnlySpan<int> chars, int i, int to)
    {
        int c = chars[i];
        // 's|'t|'re|'ve|'m|'ll|'d
        if (c == '\'' && i + 1 < to)
        {
            int n = chars[i + 1];
            if (n is 's' or 't' or 'm' or 'd') return i + 2;
            if (i + 2 < to)
            {
                int n2 = chars[i + 2];
                if ((n == 'r' && n2 == 'e') || (n == 'v' && n2 == 'e') || (n == 'l' && n2 == 'l')) return i + 3;
            }
        }
        var kind = Classify(c);
        if (c == ' ' && i + 1 < to)
        {
            // " ?X+": the optional space is taken when a run of that class follows it.
            var next = Classify(chars[i + 1]);
            if (next != CharClass.Space) return Run(chars, i + 1, to, next);
        }
        if (kind != CharClass.Space) return Run(chars, i, to, kind);

        // \s+(?!\S) then \s+: a whitespace run, giving back its last char when a non-space follows it.
        int j = Run(chars, i, to, CharClass.Space);
        if (j == to || j - 1 == i) return j;
        return j - 1;
    }

    static int Run(ReadOnlySpan<int> chars, int i, int to, CharClass kind)
    {
        int j = i + 1;
        while (j < to && Classify(chars[j]) == kind) j++;
        return j;
    }

    enum CharClass : byte { Letter, Number, Space, Other }

    /// <summary>\p{L}, \p{N}, \s (Oniguruma: 9-D, U+0085 and Z*) or anything else.</summary>
    static CharClass Classify(int c)
    {
        if (c < 0x80)
        {
            if (c is >= 'a' and <= 'z' or >= 'A' and <= 'Z') return CharClass.Letter;
            if (c is >= '0' and <= '9') return CharClass.Number;
            if (c is ' ' or >= 0x9 and <= 0xD) return CharClass.Space;
            return CharClass.Other;
        }
        if ((uint)c < 0x10000) return (CharClass)s_bmpClasses[c];
        return ClassifyByCategory(c);
    }

    // The class of every BMP code point (surrogates: Other), computed once.
    static readonly byte[] s_bmpClasses = BuildBmpClasses();

    static byte[] BuildBmpClasses()
    {
        var table = new byte[0x10000];
        for (int c = 0; c < table.Length; c++)
            table[c] = (byte)(c < 0x80 ? Classify(c) : ClassifyByCategory(c));
        return table;
    }

    static CharClass ClassifyByCategory(int c)
    {
        if (c is >= 0xD800 and <= 0xDFFF || c > 0x10FFFF) return CharClass.Other;
        if (c == 0x85) return CharClass.Space;
        return Rune.GetUnicodeCategory(new Rune(c)) switch
        {
            UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter
                or UnicodeCategory.ModifierLetter or UnicodeCategory.OtherLetter => CharClass.Letter,
            UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber => CharClass.Number,
            UnicodeCategory.SpaceSeparator or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => CharClass.Space,
            _ => CharClass.Other,
        };
    }

    /// <summary>
    /// The byte-level form of chars [from, to) of <paramref name="text"/>: each char's UTF-8 bytes as alphabet chars
    /// (a lone surrogate counts as U+FFFD), every one of them carrying the original span of its char (HF's
    /// transform with changes 0, +1, +1...). Appends to <paramref name="mapped"/> and <paramref name="spans"/>.
    /// </summary>
    public static void ToBytes(NormalizedText text, int from, int to, StringBuilder mapped, List<(int Start, int End)> spans)
    {
        Span<byte> utf8 = stackalloc byte[4];
        for (int i = from; i < to; i++)
        {
            int c = text[i];
            var rune = Rune.IsValid(c) ? new Rune(c) : Rune.ReplacementChar;
            int n = rune.EncodeToUtf8(utf8);
            var span = text.Alignment(i);
            for (int k = 0; k < n; k++)
            {
                mapped.Append(s_byteToChar[utf8[k]]);
                spans.Add(span);
            }
        }
    }

    /// <summary>
    /// HF <c>process_offsets</c> (trim_offsets): a token whose string starts (ends) with spaces — 'Ġ' or Unicode
    /// whitespace, e.g. the space an lstrip added token took — has its offsets moved past them, one unit per char
    /// (each is a one-unit char of the text), never past the other end. With <paramref name="addPrefixSpace"/>, a
    /// single leading space of the first token (or of a token at offset 0) is kept, since the prefix space was added.
    /// </summary>
    public static void TrimOffsets(List<Token> tokens, bool addPrefixSpace)
    {
        for (int i = 0; i < tokens.Count; i++)
        {
            var token = tokens[i];
            string value = token.Value;
            int leading = 0;
            while (leading < value.Length && IsSpace(value[leading])) leading++;
            int trailing = 0;
            while (trailing < value.Length && IsSpace(value[value.Length - 1 - trailing])) trailing++;
            if (leading == 0 && trailing == 0) continue;
            int start = token.Start, end = token.End;
            if (leading > 0)
            {
                bool isFirst = i == 0 || start == 0;
                if (isFirst && addPrefixSpace && leading == 1) leading = 0;
                start = Math.Min(start + leading, end);
            }
            if (trailing > 0 && end >= trailing) end = Math.Max(end - trailing, start);
            tokens[i] = token with { Start = start, End = end };
        }

        static bool IsSpace(char c) => c == SpaceChar || CharProperties.IsWhitespace(c);
    }
}
