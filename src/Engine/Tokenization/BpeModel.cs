using System.Collections.Concurrent;
using System.Text;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// HuggingFace's BPE model: a word is split into its chars (each a vocabulary token, with
/// <see cref="ContinuingSubwordPrefix"/> on all but the first and <see cref="EndOfWordSuffix"/> on the last), then
/// adjacent pairs are merged, always the pair with the lowest merge rank first and, among equal ranks, the leftmost
/// (the order of HF's priority queue of <c>(rank, position)</c>), until no adjacent pair has a merge.
/// A char missing from the vocabulary becomes <see cref="UnkToken"/> (fused with its unknown neighbours when
/// <see cref="FuseUnk"/>), or is dropped when there is no unk token, as HF does. Results are cached per word.
/// Instances are safe to use from several threads.
/// Source: tokenizers/src/models/bpe/model.rs (<c>merge_word</c>, <c>tokenize</c>), word.rs (<c>merge_all</c>);
/// Sennrich et al. 2016, "Neural Machine Translation of Rare Words with Subword Units".
/// </summary>
public sealed class BpeModel
{
    readonly Dictionary<string, int> _vocab;
    readonly string?[] _idToToken;
    // (left id, right id) -> (rank, merged id)
    readonly Dictionary<long, (int Rank, int NewId)> _merges;
    readonly ConcurrentDictionary<string, Piece[]> _cache = new(StringComparer.Ordinal);
    const int CacheCapacity = 10_000;

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

        _merges = new Dictionary<long, (int, int)>(merges.Count);
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
            _merges.TryAdd(Key(leftId, rightId), (rank, newId)); // a repeated merge keeps its first (best) rank
        }
    }

    static long Key(int left, int right) => ((long)left << 32) | (uint)right;

    /// <summary>The token string of an id, or null.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    /// <summary>The id of a token string, or null.</summary>
    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    /// <summary>The tokens of one word (a string of vocabulary chars); cached.</summary>
    public Piece[] Tokenize(string word)
    {
        if (_cache.TryGetValue(word, out var cached)) return cached;
        var pieces = MergeWord(word);
        if (_cache.Count < CacheCapacity) _cache.TryAdd(word, pieces);
        return pieces;
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

        // Merges: repeatedly the lowest-ranked adjacent pair, leftmost first.
        int n = ids.Count;
        var ranks = new int[Math.Max(n - 1, 0)];
        var newIds = new int[Math.Max(n - 1, 0)];
        for (int i = 0; i + 1 < n; i++) LookUp(i);
        while (n > 1)
        {
            int best = -1, bestRank = int.MaxValue;
            for (int i = 0; i + 1 < n; i++)
                if (ranks[i] < bestRank) { bestRank = ranks[i]; best = i; }
            if (best < 0) break;
            ids[best] = newIds[best];
            ends[best] = ends[best + 1];
            ids.RemoveAt(best + 1); starts.RemoveAt(best + 1); ends.RemoveAt(best + 1);
            int shifted = n - 3 - best; // pairs after the removed one move down by one
            if (shifted > 0)
            {
                Array.Copy(ranks, best + 2, ranks, best + 1, shifted);
                Array.Copy(newIds, best + 2, newIds, best + 1, shifted);
            }
            n--;
            if (best > 0) LookUp(best - 1);
            if (best + 1 < n) LookUp(best);
        }

        var result = new Piece[n];
        for (int i = 0; i < n; i++) result[i] = new Piece(ids[i], starts[i], ends[i]);
        return result;

        void LookUp(int i)
        {
            if (_merges.TryGetValue(Key(ids[i], ids[i + 1]), out var merge)) { ranks[i] = merge.Rank; newIds[i] = merge.NewId; }
            else ranks[i] = int.MaxValue;
        }

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
