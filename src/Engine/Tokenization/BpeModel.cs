using System.Text;
using System.Runtime.CompilerServices;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// HuggingFace's BPE model: a word is split into its chars (each a vocabulary token, with
/// <see cref="ContinuingSubwordPrefix"/> on all but the first and <see cref="EndOfWordSuffix"/> on the last), then
/// adjacent pairs are merged, always the pair with the lowest merge rank first and, among equal ranks, the leftmost
/// (the order of HF's priority queue of <c>(rank, position)</c>), until no adjacent pair has a merge.
/// A char missing from the vocabulary becomes <see cref="UnkToken"/> (fused with its unknown neighbours when
/// <see cref="FuseUnk"/>), or is dropped when there is no unk token, as HF does. Results are cached per word (<see cref="WordCache{T}"/>).
/// Instances are safe to use from several threads.
/// Source: tokenizers/src/models/bpe/model.rs (<c>merge_word</c>, <c>tokenize</c>), word.rs (<c>merge_all</c>);
/// Sennrich et al. 2016, "Neural Machine Translation of Rare Words with Subword Units".
/// </summary>
public sealed class BpeModel
{
    readonly Dictionary<string, int> _vocab;
    readonly string?[] _idToToken;
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _vocabLookup;
    // (left id, right id) -> (rank, merged id)
    readonly PairTable _merges;
    // The id of each byte's alphabet char, when the model is plain byte-level (IsByteLevel), else null.
    readonly int[]? _byteIds;
    // Word caches: by the byte-level form (Tokenize) and by the word's own text (TokenizeByteLevel).
    readonly WordCache<Piece[]> _cache = new(CacheCapacity);
    readonly WordCache<Piece[]> _wordCache = new(CacheCapacity);
    const int CacheCapacity = 16_384;
    // Words of at most this many symbols merge by scanning their pairs; longer ones through a priority queue.
    const int ScanLimit = 48;

    /// <summary>One token of a word: its id and its chars [Start, End) (code point indices into the word).</summary>
    public readonly record struct Piece(int Id, int Start, int End);

    /// <summary>Token that replaces chars missing from the vocabulary, or null (they are dropped).</summary>
    public string? UnkToken { get; }
    /// <summary>Whether consecutive unknown chars become one unk token.</summary>
    public bool FuseUnk { get; }
    /// <summary>Prefix of every char of a word but the first ("" for byte-level BPE).</summary>
    public string ContinuingSubwordPrefix { get; }
    /// <summary>Suffix of the last char of a word ("" for byte-level BPE).</summary>
    public string EndOfWordSuffix { get; }
    /// <summary>Whether a word found whole in the vocabulary is one token without merging (HF <c>ignore_merges</c>).</summary>
    public bool IgnoreMerges { get; }
    /// <summary>Whether a char missing from the vocabulary becomes its UTF-8 bytes as <c>&lt;0xXX&gt;</c> tokens.</summary>
    public bool ByteFallback { get; }
    /// <summary>Number of merges.</summary>
    public int MergeCount => _merges.Count;
    /// <summary>One past the largest vocabulary id.</summary>
    public int IdLimit => _idToToken.Length;

    /// <summary>Builds the model; merge i (0-based) has rank i.</summary>
    /// <exception cref="TokenizerException">A vocabulary id is negative or repeated, a merge names a token that is not
    /// in the vocabulary, the merged token is not in it, or the unk token is not in it.</exception>
    public BpeModel(IReadOnlyDictionary<string, int> vocab, IReadOnlyList<(string Left, string Right)> merges,
        string? unkToken = null, bool fuseUnk = false, string? continuingSubwordPrefix = null, string? endOfWordSuffix = null,
        bool ignoreMerges = false, bool byteFallback = false)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        ArgumentNullException.ThrowIfNull(merges);
        _vocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        int limit = 0;
        foreach (var (token, id) in _vocab)
        {
            if (id < 0) throw new TokenizerException($"vocabulary token '{token}' has the negative id {id}");
            limit = Math.Max(limit, id + 1);
        }
        _idToToken = new string?[limit];
        foreach (var (token, id) in _vocab)
        {
            if (_idToToken[id] is { } other)
                throw new TokenizerException($"vocabulary tokens '{other}' and '{token}' have the same id {id}");
            _idToToken[id] = token;
        }
        UnkToken = unkToken;
        if (unkToken is not null && !_vocab.ContainsKey(unkToken))
            throw new TokenizerException($"the unk token '{unkToken}' is not in the vocabulary");
        FuseUnk = fuseUnk;
        ContinuingSubwordPrefix = continuingSubwordPrefix ?? "";
        EndOfWordSuffix = endOfWordSuffix ?? "";
        IgnoreMerges = ignoreMerges;
        ByteFallback = byteFallback;

        _vocabLookup = _vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        _merges = new PairTable(merges.Count);
        int prefixLength = ContinuingSubwordPrefix.Length;
        for (int rank = 0; rank < merges.Count; rank++)
        {
            var (left, right) = merges[rank];
            if (!_vocab.TryGetValue(left, out int leftId))
                throw new TokenizerException($"merge {rank + 1} ('{left} {right}') uses '{left}', which is not in the vocabulary");
            if (!_vocab.TryGetValue(right, out int rightId))
                throw new TokenizerException($"merge {rank + 1} ('{left} {right}') uses '{right}', which is not in the vocabulary");
            string merged = left + (prefixLength > 0 && right.StartsWith(ContinuingSubwordPrefix, StringComparison.Ordinal) ? right[prefixLength..] : right);
            if (!_vocab.TryGetValue(merged, out int newId))
                throw new TokenizerException($"merge {rank + 1} ('{left} {right}') makes '{merged}', which is not in the vocabulary");
            _merges.TryAdd(leftId, rightId, rank, newId); // a repeated merge keeps its first (best) rank
        }

        if (ContinuingSubwordPrefix.Length == 0 && EndOfWordSuffix.Length == 0)
        {
            var byteIds = new int[256];
            bool all = true;
            for (int b = 0; b < 256 && all; b++)
                all = _vocab.TryGetValue(ByteLevel.ByteToChar[b].ToString(), out byteIds[b]);
            if (all) _byteIds = byteIds;
        }
    }

    /// <summary>The token string of an id, or null.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    /// <summary>The id of a token string, or null.</summary>
    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    /// <summary>The tokens of one word (a string of vocabulary chars); cached.</summary>
    public Piece[] Tokenize(string word)
    {
        if (_cache.Find(word) is { } cached) return cached;
        var pieces = MergeWord(word);
        _cache.Add(word, pieces);
        return pieces;
    }

    /// <summary>
    /// Whether the model is plain byte-level BPE: no continuing-subword prefix or end-of-word suffix, and every one of
    /// the 256 byte chars (<see cref="ByteLevel.ByteToChar"/>) is a vocabulary token, so that
    /// <see cref="TokenizeByteLevel"/> can start from byte ids without building the mapped string.
    /// </summary>
    public bool IsByteLevel => _byteIds is not null;

    /// <summary>
    /// The tokens of one word given as code points, before the byte-level mapping (only when <see cref="IsByteLevel"/>):
    /// the same tokens as <see cref="Tokenize"/> of its byte-level form, but with <see cref="Piece.Start"/> and
    /// <see cref="Piece.End"/> counted in <b>code points of the word</b> ([first char, last char + 1) of the token's
    /// bytes). A lone surrogate counts as U+FFFD. Cached by the word's UTF-16 text, looked up without allocating.
    /// </summary>
    /// <exception cref="InvalidOperationException">The model is not plain byte-level.</exception>
    public Piece[] TokenizeByteLevel(ReadOnlySpan<int> word)
    {
        if (_byteIds is null) throw new InvalidOperationException("the BPE model is not plain byte-level (prefix, suffix or missing byte chars)");
        if (word.Length == 0) return [];
        Span<char> key = word.Length <= 128 ? stackalloc char[2 * word.Length] : LongWordBuffer.BpeKey(2 * word.Length);
        int keyLength = 0;
        bool cacheable = word.Length <= WordCache<Piece[]>.MaxWordLength;
        foreach (int c in word)
        {
            if (c < 0x10000)
            {
                // A lone surrogate next to another could spell the key of a real pair: such words are not cached.
                if ((uint)(c - 0xD800) <= 0x7FF) cacheable = false;
                key[keyLength++] = (char)c;
            }
            else
            {
                key[keyLength++] = (char)(0xD800 + ((c - 0x10000) >> 10));
                key[keyLength++] = (char)(0xDC00 + ((c - 0x10000) & 0x3FF));
            }
        }
        var text = key[..keyLength];
        if (cacheable && _wordCache.Find(text) is { } cached) return cached;
        var pieces = MergeBytes(word, text);
        if (cacheable) _wordCache.Add(text, pieces);
        return pieces;
    }

    Piece[] MergeBytes(ReadOnlySpan<int> word, ReadOnlySpan<char> utf16)
    {
        var byteIds = _byteIds!;
        int byteCount = System.Text.Encoding.UTF8.GetMaxByteCount(utf16.Length);
        var scratch = Scratch.Get(byteCount);
        var bytes = scratch.Bytes.AsSpan(0, byteCount);
        var ids = scratch.Ids.AsSpan(0, byteCount);
        var starts = scratch.Starts.AsSpan(0, byteCount);
        var ends = scratch.Ends.AsSpan(0, byteCount);
        int n = 0;
        for (int ci = 0; ci < word.Length; ci++)
        {
            int c = word[ci];
            var rune = Rune.IsValid(c) ? new Rune(c) : Rune.ReplacementChar;
            int written = rune.EncodeToUtf8(bytes[n..]);
            for (int k = 0; k < written; k++)
            {
                ids[n] = byteIds[bytes[n]];
                starts[n] = ci;
                ends[n] = ci + 1;
                n++;
            }
        }

        if (IgnoreMerges)
        {
            var mapped = new char[n];
            for (int k = 0; k < n; k++) mapped[k] = ByteLevel.ByteToChar[bytes[k]];
            if (_vocabLookup.TryGetValue(mapped, out int whole)) return [new Piece(whole, 0, word.Length)];
        }

        n = MergeAll(ids[..n], starts[..n], ends[..n], scratch);
        var result = new Piece[n];
        for (int i = 0; i < n; i++) result[i] = new Piece(ids[i], starts[i], ends[i]);
        return result;
    }

    /// <summary>
    /// Merges the symbols in place (ids with their [start, end) ranges) and returns how many remain: repeatedly the
    /// adjacent pair with the lowest merge rank, the leftmost among equal ranks. Short words scan the pairs; longer
    /// ones (more than <see cref="ScanLimit"/> symbols) use HF's priority queue of (rank, position) over a linked
    /// list, which gives the same order in O(n log n).
    /// </summary>
    int MergeAll(Span<int> ids, Span<int> starts, Span<int> ends, Scratch scratch)
    {
        int n = ids.Length;
        if (n < 2) return n;
        if (n > ScanLimit) return MergeWithQueue(ids, starts, ends, scratch);
        Span<long> pairs = stackalloc long[ScanLimit]; // (rank << 32 | new id) of pair i, or long.MaxValue
        for (int i = 0; i + 1 < n; i++) pairs[i] = _merges.Find(ids[i], ids[i + 1]);
        while (n > 1)
        {
            int best = 0;
            long bestValue = pairs[0];
            for (int i = 1; i + 1 < n; i++)
                if (pairs[i] < bestValue) { bestValue = pairs[i]; best = i; }
            if (bestValue == PairTable.None) break;
            ids[best] = (int)bestValue;
            ends[best] = ends[best + 1];
            int tail = n - best - 2; // symbols after the removed one
            if (tail > 0)
            {
                ids.Slice(best + 2, tail).CopyTo(ids[(best + 1)..]);
                starts.Slice(best + 2, tail).CopyTo(starts[(best + 1)..]);
                ends.Slice(best + 2, tail).CopyTo(ends[(best + 1)..]);
                pairs.Slice(best + 2, tail - 1 > 0 ? tail - 1 : 0).CopyTo(pairs[(best + 1)..]);
            }
            n--;
            if (best > 0) pairs[best - 1] = _merges.Find(ids[best - 1], ids[best]);
            if (best + 1 < n) pairs[best] = _merges.Find(ids[best], ids[best + 1]);
        }
        return n;
    }

    /// <summary>HF <c>Word::merge_all</c>: a min-queue of (rank, position), entries checked against the current pair
    /// when they come out (a stale one is skipped).</summary>
    int MergeWithQueue(Span<int> ids, Span<int> starts, Span<int> ends, Scratch scratch)
    {
        int n = ids.Length;
        var prev = scratch.Prev.AsSpan(0, n);
        var next = scratch.Next.AsSpan(0, n);
        var alive = scratch.Alive.AsSpan(0, n);
        for (int i = 0; i < n; i++) { prev[i] = i - 1; next[i] = i + 1 < n ? i + 1 : -1; alive[i] = true; }
        var queue = scratch.Queue;
        queue.Clear();
        for (int i = 0; i + 1 < n; i++) Push(queue, _merges.Find(ids[i], ids[i + 1]), i);
        while (queue.TryDequeue(out long entry, out long priority))
        {
            int pos = (int)(priority & 0xFFFFFFFF);
            int newId = (int)entry;
            if (!alive[pos] || next[pos] < 0) continue;
            int right = next[pos];
            long current = _merges.Find(ids[pos], ids[right]);
            if (current == PairTable.None || (int)current != newId) continue;
            ids[pos] = newId;
            ends[pos] = ends[right];
            alive[right] = false;
            next[pos] = next[right];
            if (next[pos] >= 0) prev[next[pos]] = pos;
            if (prev[pos] >= 0) Push(queue, _merges.Find(ids[prev[pos]], ids[pos]), prev[pos]);
            if (next[pos] >= 0) Push(queue, _merges.Find(ids[pos], ids[next[pos]]), pos);
        }
        int count = 0;
        for (int i = 0; i >= 0; i = next[i])
        {
            ids[count] = ids[i]; starts[count] = starts[i]; ends[count] = ends[i];
            count++;
        }
        return count;

        static void Push(PriorityQueue<long, long> queue, long merge, int pos)
        {
            if (merge == PairTable.None) return;
            long rank = merge >> 32;
            queue.Enqueue(merge, (rank << 32) | (uint)pos);
        }
    }

    Piece[] MergeWord(string word)
    {
        if (IgnoreMerges && _vocab.TryGetValue(word, out int whole))
            return [new Piece(whole, 0, CountCodePoints(word))];

        // Initial symbols: one per char (with prefix/suffix), unknown chars as unk or byte tokens.
        var ids = new List<int>(word.Length);
        var starts = new List<int>(word.Length);
        var ends = new List<int>(word.Length);
        int unkId = UnkToken is null ? -1 : _vocab[UnkToken];
        int pendingUnkStart = -1, pendingUnkEnd = -1;
        int charIndex = 0;
        var sb = new StringBuilder();
        for (int i = 0; i < word.Length;)
        {
            int width = char.IsSurrogatePair(word, i) ? 2 : 1;
            bool isFirst = i == 0, isLast = i + width == word.Length;
            sb.Clear();
            if (!isFirst) sb.Append(ContinuingSubwordPrefix);
            sb.Append(word, i, width);
            if (isLast) sb.Append(EndOfWordSuffix);
            string symbol = sb.ToString();
            if (_vocab.TryGetValue(symbol, out int id))
            {
                FlushUnk();
                Add(id, charIndex, charIndex + 1);
            }
            else if (ByteFallback && ByteTokens(word.Substring(i, width)) is { } byteIds)
            {
                FlushUnk();
                foreach (int b in byteIds) Add(b, charIndex, charIndex + 1);
            }
            else if (unkId >= 0)
            {
                if (pendingUnkStart >= 0 && !FuseUnk) FlushUnk();
                if (pendingUnkStart < 0) pendingUnkStart = charIndex;
                pendingUnkEnd = charIndex + 1;
            }
            i += width;
            charIndex++;
        }
        FlushUnk();

        var idArray = ids.ToArray();
        var startArray = starts.ToArray();
        var endArray = ends.ToArray();
        int n = MergeAll(idArray, startArray, endArray, Scratch.Get(idArray.Length));
        var result = new Piece[n];
        for (int i = 0; i < n; i++) result[i] = new Piece(idArray[i], startArray[i], endArray[i]);
        return result;

        void Add(int id, int start, int end)
        {
            ids.Add(id); starts.Add(start); ends.Add(end);
        }

        void FlushUnk()
        {
            if (pendingUnkStart < 0) return;
            Add(unkId, pendingUnkStart, pendingUnkEnd);
            pendingUnkStart = pendingUnkEnd = -1;
        }
    }

    /// <summary>Per-thread buffers of the merge (grown on demand, never shrunk).</summary>
    sealed class Scratch
    {
        [ThreadStatic] static Scratch? t_instance;
        public byte[] Bytes = new byte[64];
        public int[] Ids = new int[64], Starts = new int[64], Ends = new int[64], Prev = new int[64], Next = new int[64];
        public bool[] Alive = new bool[64];
        public readonly PriorityQueue<long, long> Queue = new();

        public static Scratch Get(int size)
        {
            var scratch = t_instance ??= new Scratch();
            if (scratch.Ids.Length < size)
            {
                int capacity = Math.Max(size, 2 * scratch.Ids.Length);
                scratch.Bytes = new byte[capacity];
                scratch.Ids = new int[capacity]; scratch.Starts = new int[capacity]; scratch.Ends = new int[capacity];
                scratch.Prev = new int[capacity]; scratch.Next = new int[capacity];
                scratch.Alive = new bool[capacity];
            }
            return scratch;
        }
    }

    /// <summary>The ids of the &lt;0xXX&gt; tokens of a char's UTF-8 bytes, or null when one is missing.</summary>
    int[]? ByteTokens(string c)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(c);
        var result = new int[bytes.Length];
        for (int k = 0; k < bytes.Length; k++)
        {
            if (!_vocab.TryGetValue($"<0x{bytes[k]:X2}>", out result[k])) return null;
        }
        return result;
    }

    static int CountCodePoints(string s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i += char.IsSurrogatePair(s, i) ? 2 : 1) n++;
        return n;
    }
}

/// <summary>
/// An open-addressing hash table from a pair of ids (left, right) to (rank, new id), packed as
/// <c>rank &lt;&lt; 32 | new id</c> so that the lowest rank compares lowest; <see cref="None"/> when absent.
/// Linear probing over a power-of-two table at most half full.
/// </summary>
internal sealed class PairTable
{
    /// <summary>The value of a pair with no merge (greater than any real one).</summary>
    public const long None = long.MaxValue;
    readonly long[] _keys;
    readonly long[] _values;
    readonly int _mask;

    public PairTable(int capacity)
    {
        int size = 16;
        while (size < 2 * Math.Max(capacity, 1)) size <<= 1;
        _keys = new long[size];
        _values = new long[size];
        Array.Fill(_keys, -1L);
        _mask = size - 1;
    }

    /// <summary>Number of pairs.</summary>
    public int Count { get; private set; }

    static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    int Slot(long key) => (int)((ulong)(key * -7046029254386353131L) >> 40) & _mask;

    /// <summary>Adds the pair unless present (the first rank wins).</summary>
    public void TryAdd(int left, int right, int rank, int newId)
    {
        long key = Key(left, right);
        int i = Slot(key);
        while (_keys[i] != -1L)
        {
            if (_keys[i] == key) return;
            i = (i + 1) & _mask;
        }
        _keys[i] = key;
        _values[i] = ((long)rank << 32) | (uint)newId;
        Count++;
    }

    /// <summary>(rank &lt;&lt; 32 | new id) of the pair, or <see cref="None"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long Find(int left, int right)
    {
        long key = Key(left, right);
        var keys = _keys;
        int i = Slot(key);
        while (true)
        {
            long k = keys[i];
            if (k == key) return _values[i];
            if (k == -1L) return None;
            i = (i + 1) & _mask;
        }
    }
}
