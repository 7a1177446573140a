using System.Collections.Concurrent;
using System.Globalization;
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

    // Lookups by the grapheme/char string (null result stored as NoMatch).
    readonly ConcurrentDictionary<string, string> _cache = new(StringComparer.Ordinal);
    const string NoMatch = "\uFFFF\uFFFFno-match";
    const int CacheCapacity = 100_000;

    /// <summary>Wraps a charsmap.</summary>
    public PrecompiledNormalizer(PrecompiledCharsmap charsmap) => Charsmap = charsmap ?? throw new ArgumentNullException(nameof(charsmap));

    /// <inheritdoc/>
    public void Normalize(NormalizedText text)
    {
        if (text.Length == 0) return;
        string s = text.ToString();
        var chars = new List<int>(text.Length + 8);
        var changes = new List<int>(text.Length + 8);
        bool modified = false;
        int charIndex = 0; // code point index of the grapheme start in text
        for (int at = 0; at < s.Length;)
        {
            int length = StringInfo.GetNextTextElementLength(s.AsSpan(at));
            if (length <= 0) length = 1;
            string grapheme = s.Substring(at, length);
            int graphemeChars = CountCodePoints(grapheme);
            if (Utf8Length(grapheme) < 6 && Transform(grapheme) is { } whole)
            {
                modified = true;
                Replace(chars, changes, graphemeChars, whole);
            }
            else
            {
                for (int i = 0; i < grapheme.Length;)
                {
                    int width = char.IsSurrogatePair(grapheme, i) ? 2 : 1;
                    string part = grapheme.Substring(i, width);
                    if (Transform(part) is { } replacement)
                    {
                        modified = true;
                        Replace(chars, changes, 1, replacement);
                    }
                    else
                    {
                        chars.Add(text[charIndex + CountCodePoints(grapheme.AsSpan(0, i))]);
                        changes.Add(0);
                    }
                    i += width;
                }
            }
            charIndex += graphemeChars;
            at += length;
        }
        if (modified) text.Transform(chars.ToArray(), changes.ToArray());
    }

    /// <summary>HF <c>replace</c>: appends the new chars of a part of <paramref name="oldCount"/> chars.</summary>
    static void Replace(List<int> chars, List<int> changes, int oldCount, string replacement)
    {
        int start = chars.Count;
        for (int i = 0; i < replacement.Length; i += char.IsSurrogatePair(replacement, i) ? 2 : 1)
        {
            chars.Add(char.ConvertToUtf32(replacement, i));
            changes.Add(0);
        }
        int diff = chars.Count - start - oldCount;
        if (diff > 0)
            for (int k = changes.Count - diff; k < changes.Count; k++) changes[k] = 1;
        else if (diff < 0 && changes.Count > 0)
            changes[^1] += diff;
    }

    string? Transform(string part)
    {
        if (_cache.TryGetValue(part, out var cached)) return ReferenceEquals(cached, NoMatch) ? null : cached;
        Span<byte> utf8 = stackalloc byte[64];
        string? result;
        int n = System.Text.Encoding.UTF8.GetMaxByteCount(part.Length) <= utf8.Length
            ? System.Text.Encoding.UTF8.GetBytes(part, utf8)
            : -1;
        result = n >= 0 ? Charsmap.Lookup(utf8[..n]) : Charsmap.Lookup(System.Text.Encoding.UTF8.GetBytes(part));
        if (_cache.Count < CacheCapacity) _cache.TryAdd(part, result ?? NoMatch);
        return result;
    }

    static int Utf8Length(string s) => System.Text.Encoding.UTF8.GetByteCount(s);

    static int CountCodePoints(ReadOnlySpan<char> s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i += i + 1 < s.Length && char.IsSurrogatePair(s[i], s[i + 1]) ? 2 : 1) n++;
        return n;
    }
}
