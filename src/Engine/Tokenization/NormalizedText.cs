using System.Collections.Concurrent;
using System.Runtime.CompilerServices;
using System.Text;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// A piece of an original string under normalisation, with the alignment HuggingFace's <c>NormalizedString</c>
/// keeps: every normalised char (a Unicode code point, held as an int) knows the span of the original string it
/// came from, in UTF-16 code units (C# string indices) of the whole original string. A token's offsets are then the
/// start of its first char's span and the end of its last char's span.
/// <para>
/// Every edit goes through HF's <c>transform</c> rule: the new chars come with a change of 0 (replaces the next
/// old char and takes its span), +1 (inserted: takes the span of the previous old char, or an empty span at the
/// piece start when there is none) or -N (replaces the next old char, then drops N more). So an accent removed by
/// NFD + filter leaves the base letter its original span; Hangul jamo from one syllable and the chars of one
/// lowercased char all keep the source char's span.
/// </para>
/// Source: tokenizers/src/tokenizer/normalizer.rs (<c>NormalizedString::transform_range</c>, <c>nfd</c>,
/// <c>filter</c>, <c>map</c>, <c>lowercase</c>, <c>convert_offsets</c>).
/// </summary>
public sealed class NormalizedText
{
    int[] _chars, _starts, _ends;
    int _length;
    // Output buffers of the transform in progress, allocated by the first transform; swapped with the live ones when it ends.
    int[]? _nextChars, _nextStarts, _nextEnds;
    int _nextLength, _source;
    // True while the chars are exactly the code points of Original[OriginalStart..OriginalEnd), each aligned to itself.
    bool _pristine;
    // True while the arrays do not hold the text yet (Reuse of a range without surrogate pairs: char i is
    // Original[OriginalStart + i], spanning one unit); the first member that reads them fills them (Materialize).
    bool _deferred;

    /// <summary>The whole original string.</summary>
    public string Original { get; private set; }
    /// <summary>Start of the original range this text was made from (UTF-16 index).</summary>
    public int OriginalStart { get; private set; }
    /// <summary>End (exclusive) of the original range this text was made from.</summary>
    public int OriginalEnd { get; private set; }

    /// <summary>Starts with the code points of <c>original[start..end)</c>, each aligned to its own UTF-16 span
    /// (a surrogate pair spans 2 units; a lone surrogate is one char of its own).</summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the string.</exception>
    public NormalizedText(string original, int start, int end)
    {
        ArgumentNullException.ThrowIfNull(original);
        if ((uint)start > (uint)original.Length || end < start || end > original.Length)
            throw new ArgumentOutOfRangeException(nameof(start), $"range [{start}, {end}) is outside a string of length {original.Length}");
        int capacity = Math.Max(end - start, 4);
        _chars = new int[capacity]; _starts = new int[capacity]; _ends = new int[capacity];
        Original = original;
        Fill(original, start, end);
    }

    /// <summary>Sets the text to the code points of <c>original[start..end)</c> (the arrays hold them).</summary>
    void Fill(string original, int start, int end)
    {
        Original = original;
        OriginalStart = start;
        OriginalEnd = end;
        _length = 0;
        var chars = _chars;
        var starts = _starts;
        var ends = _ends;
        for (int i = start; i < end;)
        {
            int c = original[i], width = 1;
            if (char.IsHighSurrogate(original[i]) && i + 1 < end && char.IsLowSurrogate(original[i + 1]))
            {
                c = char.ConvertToUtf32(original[i], original[i + 1]);
                width = 2;
            }
            chars[_length] = c; starts[_length] = i; ends[_length] = i + width;
            _length++;
            i += width;
        }
        _pristine = true;
    }

    [ThreadStatic] static NormalizedText? t_reusable;

    /// <summary>
    /// This thread's reusable text, set to <c>original[start..end)</c>: the same as the constructor, without allocating
    /// once the thread's buffers are large enough. Valid until the next call on the same thread, so only for a text
    /// that does not outlive the caller's step (a piece normalised and tokenised at once).
    /// </summary>
    /// <remarks>A range without surrogate pairs is not copied into the arrays until a member reads them: a
    /// normaliser that changes nothing and a pre-tokenizer that reads the original string (<see cref="IsPlainOriginal"/>)
    /// never copy it.</remarks>
    internal static NormalizedText Reuse(string original, int start, int end)
    {
        var text = t_reusable;
        if (text is null || text._chars.Length > (1 << 20) && end - start < (1 << 16))
            text = t_reusable = new NormalizedText(original, start, start);
        text.Original = original;
        text.OriginalStart = start;
        text.OriginalEnd = end;
        text._pristine = true;
        if (original.AsSpan(start, end - start).IndexOfAnyInRange('\uD800', '\uDBFF') < 0)
        {
            text._length = end - start;
            text._deferred = true;
            return text;
        }
        text._deferred = false;
        text.EnsureCapacity(end - start);
        text.Fill(original, start, end);
        return text;
    }

    /// <summary>Fills the arrays of a deferred text (<see cref="Reuse"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Materialize()
    {
        if (_deferred) FillNow();

        [MethodImpl(MethodImplOptions.NoInlining)]
        void FillNow()
        {
            _deferred = false;
            EnsureCapacity(_length);
            Fill(Original, OriginalStart, OriginalEnd);
        }
    }

    void EnsureCapacity(int length)
    {
        if (_chars.Length >= length) return;
        int capacity = Math.Max(length, 2 * _chars.Length);
        _chars = new int[capacity]; _starts = new int[capacity]; _ends = new int[capacity];
    }

    /// <summary>
    /// Whether the text is still <c>Original[OriginalStart..OriginalEnd)</c> and holds no surrogate pair, so that
    /// char i is the UTF-16 unit <c>Original[OriginalStart + i]</c> and spans it alone: it can be read from the
    /// original string, and its offsets computed, without the arrays.
    /// </summary>
    internal bool IsPlainOriginal => _pristine && _length == OriginalEnd - OriginalStart;

    /// <summary>
    /// A new text holding chars [from, to) of this one with their alignments (HF's split of a normalised string:
    /// each piece keeps the original spans of its chars, so later transforms of the piece stay aligned).
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The range is not inside the text.</exception>
    public NormalizedText Slice(int from, int to)
    {
        Materialize();
        if ((uint)from > (uint)_length || to < from || to > _length)
            throw new ArgumentOutOfRangeException(nameof(from), $"range [{from}, {to}) is outside a text of {_length} chars");
        var (start, end) = OriginalSpan(from, to);
        var slice = new NormalizedText(Original, start, end, Math.Max(to - from, 4));
        Array.Copy(_chars, from, slice._chars, 0, to - from);
        Array.Copy(_starts, from, slice._starts, 0, to - from);
        Array.Copy(_ends, from, slice._ends, 0, to - from);
        slice._length = to - from;
        slice._pristine = _pristine; // a piece of an unchanged text is the unchanged original of its span
        return slice;
    }

    NormalizedText(string original, int start, int end, int capacity)
    {
        Original = original;
        OriginalStart = start;
        OriginalEnd = end;
        _chars = new int[capacity]; _starts = new int[capacity]; _ends = new int[capacity];
    }

    /// <summary>
    /// Puts <paramref name="c"/> before the first char, as HF's <c>prepend</c>: the new char replaces the first
    /// char's place (taking its span) and the first char is re-inserted after it (sharing that span). Does nothing
    /// on an empty text.
    /// </summary>
    public void Prepend(int c)
    {
        if (_length == 0) return;
        Materialize();
        BeginTransform(0);
        Emit(c, 0);
        Emit(_chars[0], 1);
        for (int i = 1; i < _length; i++) Emit(_chars[i], 0);
        EndTransform();
    }

    /// <summary>Number of normalised chars (code points).</summary>
    public int Length => _length;

    /// <summary>The normalised char (code point) at index i.</summary>
    public int this[int i]
    {
        get
        {
            Materialize();
            return _chars[i];
        }
    }

    /// <summary>The normalised chars.</summary>
    public ReadOnlySpan<int> Chars
    {
        get
        {
            Materialize();
            return _chars.AsSpan(0, _length);
        }
    }

    /// <summary>
    /// Whether the text is still exactly <c>Original[OriginalStart..OriginalEnd)</c> (no edit has changed it), so that
    /// its UTF-16 form can be read from the original string without building it.
    /// </summary>
    internal bool IsPristine => _pristine;

    /// <summary>The original start of every normalised char.</summary>
    internal ReadOnlySpan<int> Starts
    {
        get
        {
            Materialize();
            return _starts.AsSpan(0, _length);
        }
    }

    /// <summary>The original end of every normalised char.</summary>
    internal ReadOnlySpan<int> Ends
    {
        get
        {
            Materialize();
            return _ends.AsSpan(0, _length);
        }
    }

    /// <summary>The original span of the normalised char at index i.</summary>
    public (int Start, int End) Alignment(int i)
    {
        Materialize();
        return (_starts[i], _ends[i]);
    }

    /// <summary>
    /// Original span of the normalised chars [from, to): the first one's start and the last one's end (HF
    /// <c>expand_alignments</c>). An empty range gives an empty span at the start of the char at <paramref name="from"/>.
    /// </summary>
    public (int Start, int End) OriginalSpan(int from, int to)
    {
        Materialize();
        if (to <= from)
        {
            int at = from < _length ? _starts[from] : (_length > 0 ? _ends[_length - 1] : OriginalStart);
            return (at, at);
        }
        return (_starts[from], _ends[to - 1]);
    }

    /// <summary>The normalised text of chars [from, to) as a string.</summary>
    public string Substring(int from, int to)
    {
        Materialize();
        var sb = new StringBuilder(to - from);
        for (int i = from; i < to; i++) AppendChar(sb, _chars[i]);
        return sb.ToString();
    }

    /// <summary>The normalised text as a string.</summary>
    public override string ToString() => Substring(0, _length);

    /// <summary>Keeps the chars for which <paramref name="keep"/> is true; kept chars keep their spans (HF <c>filter</c>).</summary>
    public void Filter(Func<int, bool> keep)
    {
        Materialize();
        int n = 0;
        for (int i = 0; i < _length; i++)
        {
            if (!keep(_chars[i])) continue;
            _chars[n] = _chars[i]; _starts[n] = _starts[i]; _ends[n] = _ends[i];
            n++;
        }
        if (n != _length) _pristine = false;
        _length = n;
    }

    /// <summary>
    /// <see cref="Filter"/> and <see cref="Map"/> in one pass, with the operation inlined (a struct): each char is
    /// replaced by <c>map.Map(char)</c>, or dropped when that is negative; kept chars keep their spans.
    /// </summary>
    internal void FilterMap<TMap>(ref TMap map) where TMap : struct, ICharMap
    {
        Materialize();
        int n = 0;
        bool changed = false;
        var chars = _chars;
        var starts = _starts;
        var ends = _ends;
        for (int i = 0; i < _length; i++)
        {
            int c = chars[i];
            int mapped = map.Map(c);
            if (mapped < 0)
            {
                changed = true;
                continue;
            }
            changed |= mapped != c;
            chars[n] = mapped; starts[n] = starts[i]; ends[n] = ends[i];
            n++;
        }
        _length = n;
        if (changed) _pristine = false;
    }

    /// <summary>Whether every char is ASCII (read from the original string while the text is unchanged).</summary>
    internal bool IsAscii()
    {
        if (_pristine) return System.Text.Ascii.IsValid(Original.AsSpan(OriginalStart, OriginalEnd - OriginalStart));
        foreach (int c in Chars)
            if (c >= 0x80) return false;
        return true;
    }

    /// <summary>Replaces every char by <paramref name="map"/>(char), spans unchanged (HF <c>map</c>).</summary>
    public void Map(Func<int, int> map)
    {
        Materialize();
        for (int i = 0; i < _length; i++)
        {
            int c = _chars[i], mapped = map(c);
            if (mapped == c) continue;
            _chars[i] = mapped;
            _pristine = false;
        }
    }

    /// <summary>Rust <c>char::to_lowercase</c> on every char; extra chars of one char are inserted after it (HF <c>lowercase</c>).</summary>
    public void Lowercase()
    {
        Materialize();
        bool ascii = true;
        for (int i = 0; i < _length && ascii; i++) ascii = _chars[i] < 0x80;
        if (ascii)
        {
            for (int i = 0; i < _length; i++)
                if ((uint)(_chars[i] - 'A') <= 'Z' - 'A') { _chars[i] += 32; _pristine = false; }
            return;
        }
        Span<int> lower = stackalloc int[2];
        BeginTransform(0);
        for (int i = 0; i < _length; i++)
        {
            int n = CharProperties.AppendLowercase(_chars[i], lower);
            Emit(lower[0], 0);
            for (int k = 1; k < n; k++) Emit(lower[k], 1);
        }
        EndTransform();
    }

    /// <summary>
    /// Puts a space before and after every char for which <paramref name="isolate"/> is true, as BertNormalizer's
    /// <c>do_handle_chinese_chars</c>: changes (' ', +1), (c, 0), (' ', +1).
    /// </summary>
    public void PadWithSpaces(Func<int, bool> isolate)
    {
        Materialize();
        int i = 0;
        while (i < _length && !isolate(_chars[i])) i++;
        if (i == _length) return;
        BeginTransform(0);
        for (i = 0; i < _length; i++)
        {
            int c = _chars[i];
            if (isolate(c))
            {
                Emit(' ', 1);
                Emit(c, 0);
                Emit(' ', 1);
            }
            else Emit(c, 0);
        }
        EndTransform();
    }

    /// <summary>
    /// Canonical decomposition (NFD), as HF's <c>nfd</c> through the unicode-normalization-alignments crate: each
    /// char's decomposition gives (first, 0), (rest, +1); combining marks are then put in canonical order across
    /// chars (a stable sort by combining class), the change tags moving with their chars.
    /// Decompositions come from .NET's <see cref="string.Normalize(NormalizationForm)"/>.
    /// </summary>
    public void Nfd()
    {
        Materialize();
        // Which chars decompose, and whether marks meet (only then can canonical ordering move anything).
        bool decomposes = false, marksMeet = false, previousMayCombine = false;
        for (int i = 0; i < _length; i++)
        {
            int c = _chars[i];
            if (c < 0xC0)
            {
                previousMayCombine = false;
                continue;
            }
            var decomposition = Decomposition(c);
            if (decomposition is null)
            {
                bool mayCombine = CharProperties.MayCombine(c);
                marksMeet |= mayCombine && previousMayCombine;
                previousMayCombine = mayCombine;
                continue;
            }
            decomposes = true;
            foreach (int d in decomposition)
            {
                bool mayCombine = CharProperties.MayCombine(d);
                marksMeet |= mayCombine && previousMayCombine;
                previousMayCombine = mayCombine;
            }
        }
        if (!decomposes && !marksMeet) return;

        if (!marksMeet)
        {
            // Decomposition only: emit directly.
            BeginTransform(0);
            for (int i = 0; i < _length; i++)
            {
                int c = _chars[i];
                var decomposition = c < 0xC0 ? null : Decomposition(c);
                if (decomposition is null) Emit(c, 0);
                else
                    for (int k = 0; k < decomposition.Length; k++) Emit(decomposition[k], k == 0 ? 0 : 1);
            }
            EndTransform();
            return;
        }

        // Chars with their change tags, decomposed char by char, then put in canonical order.
        var chars = new List<int>(_length + 8);
        var changes = new List<int>(_length + 8);
        for (int i = 0; i < _length; i++)
        {
            int c = _chars[i];
            var decomposition = c < 0xC0 ? null : Decomposition(c);
            if (decomposition is null)
            {
                chars.Add(c); changes.Add(0);
                continue;
            }
            for (int k = 0; k < decomposition.Length; k++)
            {
                chars.Add(decomposition[k]); changes.Add(k == 0 ? 0 : 1);
            }
        }
        bool reordered = CanonicalOrder(chars, changes);
        if (!decomposes && !reordered) return;

        BeginTransform(0);
        for (int i = 0; i < chars.Count; i++) Emit(chars[i], changes[i]);
        EndTransform();
    }

    /// <summary>
    /// Applies HF's generic transform: the new text is <paramref name="chars"/> with change tags
    /// <paramref name="changes"/> (0 replace, +1 insert, -N replace and drop N more); <paramref name="initialOffset"/>
    /// old chars are dropped first.
    /// </summary>
    /// <exception cref="ArgumentException">The spans differ in length, or the changes consume more chars than there are.</exception>
    public void Transform(ReadOnlySpan<int> chars, ReadOnlySpan<int> changes, int initialOffset = 0)
    {
        if (chars.Length != changes.Length) throw new ArgumentException("chars and changes differ in length", nameof(changes));
        Materialize();
        BeginTransform(initialOffset);
        for (int i = 0; i < chars.Length; i++) Emit(chars[i], changes[i]);
        EndTransform();
    }

    void BeginTransform(int initialOffset)
    {
        if (_nextChars is null)
        {
            int capacity = Math.Max(_chars.Length, 4);
            _nextChars = new int[capacity]; _nextStarts = new int[capacity]; _nextEnds = new int[capacity];
        }
        _nextLength = 0;
        _source = initialOffset;
    }

    void Emit(int c, int change)
    {
        int start, end;
        if (change > 0)
        {
            // Inserted: shares the span of the previous old char.
            if (_source >= 1) { start = _starts[_source - 1]; end = _ends[_source - 1]; }
            else start = end = OriginalStart;
        }
        else
        {
            if (_source >= _length) throw new ArgumentException("transform consumes more chars than the text holds");
            start = _starts[_source]; end = _ends[_source];
            _source += 1 - change; // the replaced char, then -change removed ones
        }
        if (_nextLength == _nextChars!.Length)
        {
            int size = _nextChars.Length * 2;
            Array.Resize(ref _nextChars, size); Array.Resize(ref _nextStarts, size); Array.Resize(ref _nextEnds, size);
        }
        _nextChars[_nextLength] = c; _nextStarts![_nextLength] = start; _nextEnds![_nextLength] = end;
        _nextLength++;
    }

    void EndTransform()
    {
        (_chars, _nextChars) = (_nextChars!, _chars);
        (_starts, _nextStarts) = (_nextStarts!, _starts);
        (_ends, _nextEnds) = (_nextEnds!, _ends);
        _length = _nextLength;
        _pristine = false;
    }

    // Decompositions, computed on first use: BMP in an array (NoDecomposition marks "decomposes to itself"; writes
    // of references are atomic, so racing threads at worst compute one twice), the rest in a dictionary.
    static readonly int[] NoDecomposition = [];
    static readonly int[]?[] s_bmpDecompositions = new int[]?[0x10000];
    static readonly ConcurrentDictionary<int, int[]> s_decompositions = new();

    /// <summary>Full canonical decomposition of one code point, or null when it decomposes to itself.</summary>
    static int[]? Decomposition(int c)
    {
        if (!IsNormalizable(c)) return null;
        int[] result = c < 0x10000
            ? s_bmpDecompositions[c] ??= Decompose(c)
            : s_decompositions.GetOrAdd(c, Decompose);
        return result.Length == 0 ? null : result;

        static int[] Decompose(int cp)
        {
            string s = char.ConvertFromUtf32(cp);
            string d;
            try
            {
                d = s.Normalize(NormalizationForm.FormD);
            }
            catch (ArgumentException)
            {
                return NoDecomposition; // a char .NET refuses to normalise has no decomposition either
            }
            if (d == s) return NoDecomposition;
            var result = new List<int>(4);
            for (int i = 0; i < d.Length; i += char.IsSurrogatePair(d, i) ? 2 : 1) result.Add(char.ConvertToUtf32(d, i));
            return result.ToArray();
        }
    }

    /// <summary>Whether .NET's normaliser accepts the char: it refuses lone surrogates and U+FFFE. Neither
    /// decomposes nor has a combining class, so both can stand aside.</summary>
    static bool IsNormalizable(int c) => c is not (>= 0xD800 and <= 0xDFFF or 0xFFFE) && c <= 0x10FFFF;

    /// <summary>
    /// Puts decomposed chars in canonical order (NFD's stable sort of combining marks by combining class), moving
    /// each change tag with its char. Returns whether anything moved. The order comes from .NET's NFD of the whole
    /// run; a stable sort keeps equal chars in their order, so the k-th occurrence of a char in the result is the
    /// k-th occurrence before it.
    /// </summary>
    static bool CanonicalOrder(List<int> chars, List<int> changes)
    {
        // Chars .NET refuses stand in as U+0001 (a starter that never decomposes), which shares their queue below.
        var sb = new StringBuilder(chars.Count + 4);
        foreach (int c in chars) AppendChar(sb, Key(c));
        string text = sb.ToString();
        string ordered;
        try
        {
            if (text.IsNormalized(NormalizationForm.FormD)) return false;
            ordered = text.Normalize(NormalizationForm.FormD);
        }
        catch (ArgumentException)
        {
            return false; // keep the per-char order
        }

        var positions = new Dictionary<int, Queue<int>>();
        for (int i = 0; i < chars.Count; i++)
        {
            int key = Key(chars[i]);
            if (!positions.TryGetValue(key, out var queue)) positions[key] = queue = new Queue<int>();
            queue.Enqueue(i);
        }
        var newChars = new List<int>(chars.Count);
        var newChanges = new List<int>(chars.Count);
        for (int i = 0; i < ordered.Length; i += char.IsSurrogatePair(ordered, i) ? 2 : 1)
        {
            int key = char.ConvertToUtf32(ordered, i);
            if (!positions.TryGetValue(key, out var queue) || queue.Count == 0)
                return false; // not a pure reordering (cannot happen for decomposed input); keep the per-char order
            int source = queue.Dequeue();
            newChars.Add(chars[source]); newChanges.Add(changes[source]);
        }
        if (newChars.Count != chars.Count) return false;
        chars.Clear(); chars.AddRange(newChars);
        changes.Clear(); changes.AddRange(newChanges);
        return true;

        static int Key(int c) => IsNormalizable(c) ? c : 1;
    }

    static void AppendChar(StringBuilder sb, int c)
    {
        if (c < 0x10000)
        {
            sb.Append((char)c);
            return;
        }
        sb.Append((char)(0xD800 + ((c - 0x10000) >> 10)));
        sb.Append((char)(0xDC00 + ((c - 0x10000) & 0x3FF)));
    }
}

/// <summary>A per-char operation of <see cref="NormalizedText.FilterMap{TMap}"/>.</summary>
internal interface ICharMap
{
    /// <summary>The char that replaces <paramref name="c"/>, or a negative value to drop it.</summary>
    int Map(int c);
}
