using System.Text;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// HuggingFace's Unigram model (SentencePiece unigram language model): a word is segmented into the pieces whose
/// summed log-probability scores are highest, by Viterbi over the word's positions, as HF's
/// <c>encode_optimized</c> does: positions are visited left to right; at each start the vocabulary pieces that
/// begin there are tried shortest to longest, and a piece replaces the best path ending where it ends only when its
/// total is <b>strictly</b> greater (so on ties the path whose last piece starts earliest wins). A char that starts
/// no single-char piece may also be taken as unknown at <c>min_score − 10</c>; consecutive unknowns are fused
/// into one unk token whose string is their surface text. With byte fallback, an unknown run becomes the
/// <c>&lt;0xXX&gt;</c> pieces of its UTF-8 bytes instead (all with the run's span).
/// Scores are float64, as in HF. Results are cached per word, packed (<see cref="PackedWords"/>,
/// <see cref="PackedWordCache"/>); instances are safe to use from several threads.
/// Source: tokenizers/src/models/unigram/model.rs (<c>encode_optimized</c>, <c>tokenize</c>, <c>K_UNK_PENALTY</c>);
/// Kudo 2018, "Subword Regularization" §3.
/// </summary>
public sealed class UnigramModel
{
    readonly string[] _pieces;
    readonly double[] _scores;
    readonly Dictionary<string, int> _ids;
    // The pieces in a double-array trie over their UTF-16 code units, and the score of the piece ending at each of
    // its nodes: the Viterbi walk reads the trie's 8-byte units, and a node's score and id only where a piece ends.
    // (16-byte units holding a children mask and the id, or the score, were slower: the walk is bound by units not in
    // cache, and larger units put fewer of them there.)
    readonly DoubleArrayTrie _trie;
    readonly double[] _nodeScores;

    // The pieces of recent words, by the word's UTF-16 text.
    readonly PackedWordCache _cache = new(CacheCapacity);
    const int CacheCapacity = 16_384;
    const double UnknownPenalty = 10.0;

    /// <summary>One token of a word: its id, string and chars [Start, End) (code point indices into the word).</summary>
    public readonly record struct Piece(int Id, string Value, int Start, int End);

    /// <summary>Id of the unknown piece.</summary>
    public int? UnkId { get; }
    /// <summary>Whether unknown runs become &lt;0xXX&gt; byte pieces.</summary>
    public bool ByteFallback { get; }
    /// <summary>Lowest piece score (an unknown char costs this minus 10).</summary>
    public double MinScore { get; }
    /// <summary>Number of pieces (ids are 0..Count-1).</summary>
    public int Count => _pieces.Length;

    /// <summary>Builds the model; piece i has id i.</summary>
    /// <exception cref="TokenizerException">The vocabulary is empty, a piece is empty, or unk_id is out of range.</exception>
    public UnigramModel(IReadOnlyList<(string Piece, double Score)> vocab, int? unkId, bool byteFallback = false)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        if (vocab.Count == 0) throw new TokenizerException("the Unigram vocabulary is empty");
        if (unkId is int u && (u < 0 || u >= vocab.Count))
            throw new TokenizerException($"unk_id {u} is outside the vocabulary of {vocab.Count} pieces");
        _pieces = new string[vocab.Count];
        _scores = new double[vocab.Count];
        _ids = new Dictionary<string, int>(vocab.Count, StringComparer.Ordinal);
        double min = double.PositiveInfinity;
        for (int i = 0; i < vocab.Count; i++)
        {
            var (piece, score) = vocab[i];
            if (string.IsNullOrEmpty(piece)) throw new TokenizerException($"Unigram piece {i} is empty");
            _pieces[i] = piece;
            _scores[i] = score;
            _ids[piece] = i; // a repeated piece: the last id wins, as HF's token_to_ids
            min = Math.Min(min, score);
        }
        _trie = new DoubleArrayTrie(_ids);
        _nodeScores = new double[_trie.Units.Length];
        foreach (var (piece, id) in _ids) _nodeScores[_trie.FindNode(piece)] = _scores[id];
        MinScore = min;
        UnkId = unkId;
        _unkId = unkId ?? -1;
        ByteFallback = byteFallback;
    }

    /// <summary>The piece string of an id, or null.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_pieces.Length ? _pieces[id] : null;

    /// <summary>The id of a piece, or null.</summary>
    public int? TokenToId(string token) => _ids.TryGetValue(token, out int id) ? id : null;

    /// <summary>The score of a piece id.</summary>
    public double Score(int id) => _scores[id];

    /// <summary>The tokens of one word (cached).</summary>
    /// <exception cref="TokenizerException">The word has a char no piece covers and the model has no unk id.</exception>
    public Piece[] Tokenize(string word)
    {
        ArgumentNullException.ThrowIfNull(word);
        return Unpack(TokenizeUtf16(word.AsSpan()));
    }

    /// <summary>
    /// The tokens of one word given as code points (cached by its UTF-16 text, looked up without allocating);
    /// the same as <see cref="Tokenize(string)"/> of the string they spell.
    /// </summary>
    /// <exception cref="TokenizerException">The word has a char no piece covers and the model has no unk id.</exception>
    public Piece[] Tokenize(ReadOnlySpan<int> word)
    {
        Span<char> utf16 = word.Length <= 128 ? stackalloc char[2 * word.Length] : LongWordBuffer.UnigramWord(2 * word.Length);
        int length = 0;
        foreach (int c in word)
        {
            if (c < 0x10000) utf16[length++] = (char)c;
            else
            {
                utf16[length++] = (char)(0xD800 + ((c - 0x10000) >> 10));
                utf16[length++] = (char)(0xDC00 + ((c - 0x10000) & 0x3FF));
            }
        }
        return Unpack(TokenizeUtf16(utf16[..length]));
    }

    /// <summary>The pieces of one word given in UTF-16 (cached), packed with the word (<see cref="PackedWords"/>):
    /// starts and ends count code points, and <see cref="PieceString"/> gives each piece's string.</summary>
    internal int[] TokenizeUtf16(ReadOnlySpan<char> word)
    {
        if (_cache.Find(word) is { } cached) return cached;
        var packed = Encode(word);
        _cache.Add(packed);
        return packed;
    }

    /// <summary>
    /// The string of piece k of a packed word: the model's piece string, or for the unknown piece the text it
    /// covers (a new string each time, so that cached words hold no references).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    internal string PieceString(int[] packed, int k)
    {
        int id = packed[PackedWords.First(packed) + 3 * k];
        return id != _unkId ? _pieces[id] : UnknownString(packed, k);
    }

    string UnknownString(int[] packed, int k)
    {
        int at = PackedWords.First(packed) + 3 * k;
        var word = PackedWords.Word(packed);
        int start = packed[at + 1], end = packed[at + 2];
        if (PackedWords.HasPairs(packed)) (start, end) = (Utf16Index(word, start), Utf16Index(word, end));
        return word[start..end].ToString();
    }

    // UnkId, or -1 (no piece id) when there is none.
    readonly int _unkId;

    Piece[] Unpack(int[] packed)
    {
        var pieces = new Piece[PackedWords.Count(packed)];
        int first = PackedWords.First(packed);
        for (int k = 0; k < pieces.Length; k++)
            pieces[k] = new Piece(packed[first + 3 * k], PieceString(packed, k), packed[first + 3 * k + 1], packed[first + 3 * k + 2]);
        return pieces;
    }

    /// <summary>
    /// Viterbi over the word's UTF-16 positions (only those at code point boundaries): from each start, the trie
    /// gives the pieces beginning there, shortest first; a piece replaces the best path to its end only when strictly
    /// better (the first path to reach a position is taken: every best score starts at minus infinity).
    /// </summary>
    int[] Encode(ReadOnlySpan<char> word)
    {
        int n = word.Length;
        if (n == 0) return PackedWords.Create(word, 0, false);
        var lattice = Lattice.Get(n + 1);
        var bestScore = lattice.BestScore.AsSpan(0, n + 1);
        var startsAt = lattice.StartsAt.AsSpan(0, n + 1);
        var bestId = lattice.BestId.AsSpan(0, n + 1);
        bestScore.Fill(double.NegativeInfinity);
        bestScore[0] = 0;
        double unkScore = MinScore - UnknownPenalty;
        var units = _trie.Units;
        var nodeScores = _nodeScores;
        var nodeIds = _trie.Values;
        var codes = _trie.Codes;
        // Surrogate pairs need care below (a char of two units; no piece may end inside it); most words have none.
        bool hasPairs = word.IndexOfAnyInRange('\uD800', '\uDBFF') >= 0;

        for (int start = 0; start < n;)
        {
            int width = hasPairs && start + 1 < n && char.IsSurrogatePair(word[start], word[start + 1]) ? 2 : 1;
            double tillHere = bestScore[start];
            bool hasSingle = false;
            int node = DoubleArrayTrie.Root;
            for (int end = start; end < n; end++)
            {
                // The trie's child by word[end] (DoubleArrayTrie.Child, inlined).
                int code = codes[word[end]];
                if (code == 0) break;
                uint t = (uint)((units[node].Base & DoubleArrayTrie.BaseMask) + code);
                if (t >= (uint)units.Length || units[t].Check != node) break;
                node = (int)t;
                if ((units[node].Base & DoubleArrayTrie.HasValue) == 0) continue;
                int target = end + 1;
                // A piece ending inside a surrogate pair is no path (a lone-surrogate piece cannot split a char).
                if (hasPairs && target < n && char.IsLowSurrogate(word[target]) && char.IsHighSurrogate(word[end])) continue;
                double candidate = nodeScores[node] + tillHere;
                if (candidate > bestScore[target])
                {
                    bestScore[target] = candidate;
                    startsAt[target] = start;
                    bestId[target] = nodeIds[node];
                }
                if (target == start + width) hasSingle = true;
            }
            if (!hasSingle)
            {
                int target = start + width;
                double candidate = unkScore + tillHere;
                if (candidate > bestScore[target])
                {
                    int unk = UnkId ?? throw new TokenizerException($"the Unigram model has no unk_id, but no piece covers the char U+{(width == 2 ? char.ConvertToUtf32(word[start], word[start + 1]) : word[start]):X4}");
                    bestScore[target] = candidate;
                    startsAt[target] = start;
                    bestId[target] = unk;
                }
            }
            start += width;
        }

        // Backtrack, fusing consecutive unknowns; pieces come out last first.
        var result = lattice.Pieces;
        result.Clear();
        int endAt = n, unkEnd = -1;
        while (endAt > 0)
        {
            int start = startsAt[endAt];
            int id = bestId[endAt];
            if (UnkId is int u && id == u)
            {
                if (unkEnd < 0) unkEnd = endAt;
            }
            else
            {
                if (unkEnd >= 0) { AddUnknown(word, endAt, unkEnd, result); unkEnd = -1; }
                result.Add((id, start, endAt));
            }
            endAt = start;
        }
        if (unkEnd >= 0) AddUnknown(word, 0, unkEnd, result);

        // In text order, with UTF-16 positions turned into code point indices.
        var packed = PackedWords.Create(word, result.Count, hasPairs);
        for (int k = 0; k < result.Count; k++)
        {
            var (id, start, end) = result[result.Count - 1 - k];
            if (hasPairs) (start, end) = (CodePointIndex(word, start), CodePointIndex(word, end));
            PackedWords.SetPiece(packed, k, id, start, end);
        }
        return packed;
    }

    /// <summary>Adds an unknown run [from, to) (UTF-16 positions): a known piece if its text is one, else its byte
    /// pieces with byte fallback, else the unk piece (whose string is the surface text). Added in reverse order.</summary>
    void AddUnknown(ReadOnlySpan<char> word, int from, int to, List<(int Id, int Start, int End)> result)
    {
        var surface = word[from..to];
        // A run of one char is unknown because no piece is that char; a longer run may spell a piece.
        bool oneChar = to - from == 1 || (to - from == 2 && char.IsSurrogatePair(word[from], word[from + 1]));
        int known = oneChar ? -1 : _trie.Find(surface);
        if (known >= 0) { result.Add((known, from, to)); return; }
        if (ByteFallback && ByteIds(surface.ToString()) is { } bytes)
        {
            for (int k = bytes.Length - 1; k >= 0; k--) result.Add((bytes[k], from, to));
            return;
        }
        result.Add((UnkId!.Value, from, to));
    }

    static int CodePointIndex(ReadOnlySpan<char> word, int utf16Index)
    {
        int n = 0;
        for (int i = 0; i < utf16Index; i += i + 1 < word.Length && char.IsSurrogatePair(word[i], word[i + 1]) ? 2 : 1) n++;
        return n;
    }

    static int Utf16Index(ReadOnlySpan<char> word, int codePointIndex)
    {
        int i = 0;
        for (int n = 0; n < codePointIndex; n++) i += i + 1 < word.Length && char.IsSurrogatePair(word[i], word[i + 1]) ? 2 : 1;
        return i;
    }

    int[]? ByteIds(string surface)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(surface);
        var result = new int[bytes.Length];
        for (int k = 0; k < bytes.Length; k++)
        {
            string name = $"<0x{bytes[k]:X2}>";
            if (!_ids.TryGetValue(name, out int id)) return null;
            result[k] = id;
        }
        return result;
    }

    /// <summary>Per-thread Viterbi arrays (grown on demand).</summary>
    sealed class Lattice
    {
        [ThreadStatic] static Lattice? t_instance;
        public double[] BestScore = new double[64];
        public int[] StartsAt = new int[64], BestId = new int[64];
        public readonly List<(int Id, int Start, int End)> Pieces = new(16);

        public static Lattice Get(int size)
        {
            var lattice = t_instance ??= new Lattice();
            if (lattice.StartsAt.Length < size)
            {
                int capacity = Math.Max(size, 2 * lattice.StartsAt.Length);
                lattice.BestScore = new double[capacity];
                lattice.StartsAt = new int[capacity];
                lattice.BestId = new int[capacity];
            }
            return lattice;
        }
    }
}
