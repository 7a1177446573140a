using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// HF's <c>Precompiled</c> normalizer (SentencePiece charsmaps such as <c>nmt_nfkc</c>: NFKC, some spaces, deleted
/// controls), applied as tokenizers does, <b>per grapheme</b> rather than SentencePiece's longest match:
/// for each extended grapheme cluster shorter than 6 UTF-8 bytes, the shortest charsmap key that is a prefix of it
/// replaces the whole grapheme (so NFD <c>a + U+0302 + U+0301</c> becomes <c>â</c>, the acute dropped); otherwise
/// (longer, or no key) each char is replaced on its own when it has a key and kept when not.
/// Alignment follows HF's <c>replace</c>: the new chars get change 0, the last extra ones +1 (sharing the span of
/// the char before), and when a replacement is shorter, the last change recorded so far (possibly a previous
/// grapheme's) absorbs the difference — a deleted char at the very start is not recorded at all, as in HF.
/// Source: tokenizers/src/normalizers/precompiled.rs (<c>normalize</c>, <c>replace</c>); UAX #29 grapheme clusters
/// (.NET <see cref="StringInfo.GetNextTextElementLength(ReadOnlySpan{char})"/>, the unicode-segmentation crate in HF).
/// </summary>
public sealed class PrecompiledNormalizer : INormalizer
{
    /// <summary>The charsmap.</summary>
    public PrecompiledCharsmap Charsmap { get; }

    // The code points of the replacement at each offset of the charsmap's blob (empty: delete), decoded on first use.
    readonly int[]?[] _replacements;
    static readonly int[] NoMatch = [-1];
    // The lookup of each ASCII char alone (a one-char grapheme), or null when it has no key; and the ASCII chars
    // without a key other than CR (which may be joined by LF), searched for in runs.
    readonly int[]?[] _ascii = new int[]?[128];
    readonly System.Buffers.SearchValues<char> _plainAscii;

    /// <summary>Wraps a charsmap.</summary>
    public PrecompiledNormalizer(PrecompiledCharsmap charsmap)
    {
        Charsmap = charsmap ?? throw new ArgumentNullException(nameof(charsmap));
        _replacements = new int[]?[charsmap.ReplacementsLength + 1];
        for (int c = 0; c < 128; c++)
        {
            var result = Lookup([(char)c]);
            _ascii[c] = ReferenceEquals(result, NoMatch) ? null : result;
        }
        _plainAscii = System.Buffers.SearchValues.Create(Enumerable.Range(0, 128).Where(c => _ascii[c] is null && c != '\r').Select(c => (char)c).ToArray());
    }

    /// <inheritdoc/>
    public void Normalize(NormalizedText text)
    {
        if (text.Length == 0) return;
        // The text in UTF-16: read from the original string while no edit has changed it (its chars are then read
        // only where a replacement is made).
        ReadOnlySpan<char> s = text.IsPristine
            ? text.Original.AsSpan(text.OriginalStart, text.OriginalEnd - text.OriginalStart)
            : text.ToString();
        var output = Output.Get(text.Length + 8);
        bool modified = false;
        int charIndex = 0; // code point index of the grapheme start in text
        int pending = 0;   // chars [pending, charIndex) are unchanged and not yet written to the output
        for (int at = 0; at < s.Length;)
        {
            int c = s[at];
            if (c < 0x80)
            {
                // A run of ASCII chars without a key (not CR): all but its last are graphemes of their own (the last
                // may be joined by what follows the run) and stay as they are.
                int run = s[at..].IndexOfAnyExcept(_plainAscii);
                int skip = run < 0 ? s.Length - at : run - 1;
                if (skip > 0)
                {
                    at += skip;
                    charIndex += skip;
                    continue;
                }
            }
            // BMP chars that are graphemes of their own (by what may follow each and what does follow it) are
            // looked up alone: those without a key, the most common, are passed over by their flags alone.
            if (SingleChar(s, at) is var flags && flags != 0)
            {
                do
                {
                    if ((flags & NoKey) == 0)
                    {
                        modified = true;
                        output.AddUnchanged(text.Chars[pending..charIndex]);
                        output.Replace(1, c < 0x80 ? _ascii[c]! : TransformBmp((char)c)!);
                        pending = charIndex + 1;
                    }
                    at++;
                    charIndex++;
                    if (at == s.Length) break;
                    c = s[at];
                }
                while (c >= 0x80 && (flags = SingleChar(s, at)) != 0);
                continue;
            }

            // A run of non-ASCII chars that each begin no key (BMP): whatever graphemes they form, no grapheme of
            // theirs has a key and neither has any of its chars. It is passed over when a grapheme ends with it:
            // at the end of the text, or before an ASCII char when its last char breaks after any char (no rule
            // but GB3, GB9, GB9a and GB9b can join a char to an ASCII char, and those need CR, an Extend, ZWJ or
            // SpacingMark after it, or Prepend before it).
            if (!char.IsSurrogate((char)c) && (BmpFlags((char)c) & NoMatchAfter) != 0)
            {
                int end = at + 1;
                while (end < s.Length && s[end] >= 0x80 && !char.IsSurrogate(s[end]) && (BmpFlags(s[end]) & NoMatchAfter) != 0) end++;
                if (end == s.Length || (s[end] < 0x80 && (BmpFlags(s[end - 1]) & After) != 0))
                {
                    charIndex += end - at;
                    at = end;
                    continue;
                }
            }

            int length = StringInfo.GetNextTextElementLength(s[at..]);
            if (length <= 0) length = 1;
            var grapheme = s.Slice(at, length);
            int graphemeChars = CountCodePoints(grapheme);
            // The whole grapheme is looked up unless its first char (BMP) begins no key.
            bool mayMatch = char.IsSurrogate((char)c) || (BmpFlags((char)c) & NoMatchAfter) == 0;
            if (mayMatch && System.Text.Encoding.UTF8.GetByteCount(grapheme) < 6 && Transform(grapheme) is { } whole)
            {
                modified = true;
                output.AddUnchanged(text.Chars[pending..charIndex]);
                output.Replace(graphemeChars, whole);
                pending = charIndex + graphemeChars;
            }
            else
            {
                int k = 0;
                for (int i = 0; i < grapheme.Length; k++)
                {
                    int width = i + 1 < grapheme.Length && char.IsSurrogatePair(grapheme[i], grapheme[i + 1]) ? 2 : 1;
                    if ((width == 1 ? TransformBmp(grapheme[i]) : Transform(grapheme.Slice(i, 2))) is { } replacement)
                    {
                        modified = true;
                        output.AddUnchanged(text.Chars[pending..(charIndex + k)]);
                        output.Replace(1, replacement);
                        pending = charIndex + k + 1;
                    }
                    i += width;
                }
            }
            charIndex += graphemeChars;
            at += length;
        }
        if (!modified) return;
        output.AddUnchanged(text.Chars[pending..]);
        text.Transform(output.Chars, output.Changes);
    }

    /// <summary><see cref="Transform"/> of one BMP char, through a per-char table filled on first use.</summary>
    int[]? TransformBmp(char c)
    {
        var table = _bmp ??= new int[]?[0x10000];
        var result = table[c];
        if (result is null) table[c] = result = Lookup([c]);
        return ReferenceEquals(result, NoMatch) ? null : result;
    }

    // The lookup of every BMP char met alone (NoMatch: no key), filled on first use (racing threads write the same).
    int[]?[]? _bmp;

    // Flags of BMP chars, one byte each, filled on first use (0: not yet known; racing threads write the same):
    // Known; Before, After: Graphemes.BreaksBefore and BreaksAfter, and not a surrogate; NoKey: looked up alone,
    // the char has no key; NoMatchAfter: no key matches any text starting with the char (not
    // PrecompiledCharsmap.MayMatchAfter), so a grapheme starting with it has no key either.
    const byte Known = 1, Before = 2, After = 4, NoKey = 8, NoMatchAfter = 16;
    readonly byte[] _bmpFlags = new byte[0x10000];

    /// <summary>
    /// When the BMP char at <paramref name="at"/> (which starts a grapheme) is a grapheme of its own, its flags
    /// (with <see cref="NoKey"/> when it keeps itself); otherwise 0. A grapheme of one char: c breaks after
    /// whatever follows, and what follows (if anything) breaks before whatever precedes it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    byte SingleChar(ReadOnlySpan<char> s, int at)
    {
        byte flags = BmpFlags(s[at]);
        if ((flags & After) == 0) return 0;
        return at + 1 == s.Length || (BmpFlags(s[at + 1]) & Before) != 0 ? flags : (byte)0;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    byte BmpFlags(char c)
    {
        byte flags = _bmpFlags[c];
        return flags != 0 ? flags : ComputeBmpFlags(c);
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    byte ComputeBmpFlags(char c)
    {
        byte flags = Known;
        if (!char.IsSurrogate(c))
        {
            if (Graphemes.BreaksBefore(c)) flags |= Before;
            if (Graphemes.BreaksAfter(c)) flags |= After;
            if ((c < 0x80 ? _ascii[c] : TransformBmp(c)) is null) flags |= NoKey;
            Span<byte> utf8 = stackalloc byte[3];
            if (!Charsmap.MayMatchAfter(utf8[..System.Text.Encoding.UTF8.GetBytes([c], utf8)])) flags |= NoMatchAfter;
        }
        return _bmpFlags[c] = flags;
    }

    /// <summary>The replacement's code points for a grapheme or char (under 6 UTF-8 bytes, or one char), or null
    /// when no key is a prefix of it.</summary>
    int[]? Transform(ReadOnlySpan<char> part)
    {
        var result = Lookup(part);
        return ReferenceEquals(result, NoMatch) ? null : result;
    }

    int[] Lookup(ReadOnlySpan<char> part)
    {
        Span<byte> utf8 = stackalloc byte[16];
        int offset = System.Text.Encoding.UTF8.GetMaxByteCount(part.Length) <= utf8.Length
            ? Charsmap.LookupOffset(utf8[..System.Text.Encoding.UTF8.GetBytes(part, utf8)])
            : Charsmap.LookupOffset(System.Text.Encoding.UTF8.GetBytes(part.ToString()));
        if (offset < 0) return NoMatch;
        var result = _replacements[offset];
        if (result is not null) return result;
        string replacement = Charsmap.Replacement(offset)!;
        var codePoints = new List<int>(replacement.Length);
        for (int i = 0; i < replacement.Length; i += char.IsSurrogatePair(replacement, i) ? 2 : 1)
            codePoints.Add(char.ConvertToUtf32(replacement, i));
        return _replacements[offset] = codePoints.ToArray();
    }

    static int CountCodePoints(ReadOnlySpan<char> s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i += i + 1 < s.Length && char.IsSurrogatePair(s[i], s[i + 1]) ? 2 : 1) n++;
        return n;
    }

    /// <summary>
    /// Which BMP chars end or start a grapheme whatever their neighbour, by .NET's own segmentation
    /// (<see cref="StringInfo.GetNextTextElementLength(ReadOnlySpan{char})"/>, the reference the slow path uses), tried
    /// once per char and remembered:
    /// <list type="bullet">
    /// <item><see cref="BreaksBefore"/>(d): "a" + d is two graphemes, so d is not Extend, ZWJ or SpacingMark (GB9,
    /// GB9a), the only classes that join any char before them (the rules that join other classes look back at a
    /// specific char: Hangul, CR, regional indicators, a linker or ZWJ);</item>
    /// <item><see cref="BreaksAfter"/>(c): c followed by one char of each class that could still join it (a letter,
    /// LF, Hangul L, V, T, LV and LVT, an Indic consonant, BMP pictographs) is two graphemes each time, so c is not
    /// Prepend, CR, Hangul, a linker or ZWJ that would join them (GB3, GB6–GB9c, GB11).</item>
    /// </list>
    /// Then c followed by such a d is a grapheme of one char.
    /// </summary>
    static class Graphemes
    {
        const byte Known = 1, Before = 2, After = 4;
        static readonly byte[] s_flags = new byte[0x10000];
        static readonly string[] s_followers = ["a", "\n", "\u1100", "\u1161", "\u11A8", "\uAC00", "\uAC01", "\u0915", "\u00A9", "\u2600", "\u3042"];

        public static bool BreaksBefore(char d) => (Flags(d) & Before) != 0;

        public static bool BreaksAfter(char c) => (Flags(c) & After) != 0;

        static byte Flags(char c)
        {
            byte flags = s_flags[c];
            if (flags != 0) return flags;
            flags = Known;
            Span<char> pair = stackalloc char[2];
            pair[0] = 'a';
            pair[1] = c;
            if (StringInfo.GetNextTextElementLength(pair) == 1) flags |= Before;
            pair[0] = c;
            bool after = true;
            foreach (string follower in s_followers)
            {
                pair[1] = follower[0];
                after &= StringInfo.GetNextTextElementLength(pair) == 1;
            }
            if (after) flags |= After;
            return s_flags[c] = flags;
        }
    }

    /// <summary>The new chars and change tags of one normalisation (per-thread, reused).</summary>
    sealed class Output
    {
        [ThreadStatic] static Output? t_instance;
        int[] _chars = new int[256], _changes = new int[256];
        int _count;

        public static Output Get(int capacity)
        {
            var output = t_instance ??= new Output();
            if (output._chars.Length < capacity || output._chars.Length > (1 << 20) && capacity < (1 << 16))
            {
                output._chars = new int[Math.Max(capacity, 256)];
                output._changes = new int[output._chars.Length];
            }
            output._count = 0;
            return output;
        }

        public ReadOnlySpan<int> Chars => _chars.AsSpan(0, _count);
        public ReadOnlySpan<int> Changes => _changes.AsSpan(0, _count);

        /// <summary>Appends unchanged chars (change 0).</summary>
        public void AddUnchanged(ReadOnlySpan<int> chars)
        {
            foreach (int c in chars) Add(c, 0);
        }

        public void Add(int c, int change)
        {
            if (_count == _chars.Length)
            {
                Array.Resize(ref _chars, 2 * _count);
                Array.Resize(ref _changes, 2 * _count);
            }
            _chars[_count] = c;
            _changes[_count] = change;
            _count++;
        }

        /// <summary>HF <c>replace</c>: appends the new chars of a part of <paramref name="oldCount"/> chars.</summary>
        public void Replace(int oldCount, int[] replacement)
        {
            int start = _count;
            foreach (int c in replacement) Add(c, 0);
            int diff = _count - start - oldCount;
            if (diff > 0)
                for (int k = _count - diff; k < _count; k++) _changes[k] = 1;
            else if (diff < 0 && _count > 0)
                _changes[_count - 1] += diff;
        }
    }
}
