using System.Collections.Concurrent;
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
/// Scores are float64, as in HF. Results are cached per word; instances are safe to use from several threads.
/// Source: tokenizers/src/models/unigram/model.rs (<c>encode_optimized</c>, <c>tokenize</c>, <c>K_UNK_PENALTY</c>);
/// Kudo 2018, "Subword Regularization" §3.
/// </summary>
public sealed class UnigramModel
{
    readonly string[] _pieces;
    readonly double[] _scores;
    readonly Dictionary<string, int> _ids;
    // Trie over code points: (node << 21 | code point) -> child node; a node's piece id or -1.
    readonly Dictionary<long, int> _edges = new();
    readonly List<int> _nodeIds = [-1];
    readonly ConcurrentDictionary<string, Piece[]> _cache = new(StringComparer.Ordinal);
    const int CacheCapacity = 10_000;
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
        foreach (var (piece, id) in _ids) Insert(piece, id);
        MinScore = min;
        UnkId = unkId;
        ByteFallback = byteFallback;
    }

    void Insert(string piece, int id)
    {
        int node = 0;
        for (int i = 0; i < piece.Length; i += char.IsSurrogatePair(piece, i) ? 2 : 1)
        {
            long key = ((long)node << 21) | (long)(uint)CodePoint(piece, i);
            if (!_edges.TryGetValue(key, out int child))
            {
                child = _nodeIds.Count;
                _nodeIds.Add(-1);
                _edges[key] = child;
            }
            node = child;
        }
        _nodeIds[node] = id;
    }

    static int CodePoint(string s, int i) => char.IsSurrogatePair(s, i) ? char.ConvertToUtf32(s[i], s[i + 1]) : s[i];

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
        if (_cache.TryGetValue(word, out var cached)) return cached;
        var pieces = Encode(word);
        if (_cache.Count < CacheCapacity) _cache.TryAdd(word, pieces);
        return pieces;
    }

    Piece[] Encode(string word)
    {
        var chars = new List<int>(word.Length);
        var utf16Starts = new List<int>(word.Length + 1);
        for (int i = 0; i < word.Length; i += char.IsSurrogatePair(word, i) ? 2 : 1)
        {
            utf16Starts.Add(i);
            chars.Add(CodePoint(word, i));
        }
        utf16Starts.Add(word.Length);
        int n = chars.Count;
        var bestScore = new double[n + 1];
        var startsAt = new int[n + 1];
        var bestId = new int[n + 1];
        Array.Fill(startsAt, -1);
        double unkScore = MinScore - UnknownPenalty;

        for (int start = 0; start < n; start++)
        {
            double tillHere = bestScore[start];
            bool hasSingle = false;
            int node = 0;
            for (int end = start; end < n; end++)
            {
                if (!_edges.TryGetValue(((long)node << 21) | (long)(uint)chars[end], out node)) break;
                int id = _nodeIds[node];
                if (id < 0) continue;
                int target = end + 1;
                double candidate = _scores[id] + tillHere;
                if (startsAt[target] < 0 || candidate > bestScore[target])
                {
                    bestScore[target] = candidate;
                    startsAt[target] = start;
                    bestId[target] = id;
                }
                if (end == start) hasSingle = true;
            }
            if (!hasSingle)
            {
                int target = start + 1;
                double candidate = unkScore + tillHere;
                if (startsAt[target] < 0 || candidate > bestScore[target])
                {
                    int unk = UnkId ?? throw new TokenizerException($"the Unigram model has no unk_id, but no piece covers the char U+{chars[start]:X4}");
                    bestScore[target] = candidate;
                    startsAt[target] = start;
                    bestId[target] = unk;
                }
            }
        }

        // Backtrack, fusing consecutive unknowns.
        var result = new List<Piece>();
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
                if (unkEnd >= 0) { AddUnknown(endAt, unkEnd); unkEnd = -1; }
                result.Add(new Piece(id, word[utf16Starts[start]..utf16Starts[endAt]], start, endAt));
            }
            endAt = start;
        }
        if (unkEnd >= 0) AddUnknown(0, unkEnd);
        result.Reverse();
        return result.ToArray();

        void AddUnknown(int from, int to)
        {
            string surface = word[utf16Starts[from]..utf16Starts[to]];
            if (_ids.TryGetValue(surface, out int known)) { result.Add(new Piece(known, surface, from, to)); return; }
            if (ByteFallback && ByteIds(surface) is { } bytes)
            {
                // Added in reverse (the list is reversed at the end).
                for (int k = bytes.Length - 1; k >= 0; k--) result.Add(new Piece(bytes[k].Id, bytes[k].Value, from, to));
                return;
            }
            result.Add(new Piece(UnkId!.Value, surface, from, to));
        }
    }

    (int Id, string Value)[]? ByteIds(string surface)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(surface);
        var result = new (int, string)[bytes.Length];
        for (int k = 0; k < bytes.Length; k++)
        {
            string name = $"<0x{bytes[k]:X2}>";
            if (!_ids.TryGetValue(name, out int id)) return null;
            result[k] = (id, name);
        }
        return result;
    }
}
