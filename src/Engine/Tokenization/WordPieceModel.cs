namespace MixLens.Engine.Tokenization;

/// <summary>
/// HuggingFace's WordPiece model: greedy longest-match-first over one word. From the start of the word it takes the
/// longest prefix that is in the vocabulary, then continues from there with the longest piece that, with the
/// continuing-subword prefix ("##") in front, is in the vocabulary. A word longer than
/// <see cref="MaxInputCharsPerWord"/> chars (code points), or one where some position has no match, becomes a single
/// unk token whose span covers the whole word.
/// Source: tokenizers/src/models/wordpiece/mod.rs (<c>WordPiece::tokenize</c>).
/// </summary>
public sealed class WordPieceModel
{
    readonly Dictionary<string, int> _vocab;
    readonly string?[] _idToToken;
    // The vocabulary in a trie (value: index into _entries), and the node after the continuing-subword prefix
    // (-1 when no entry starts with it).
    readonly DoubleArrayTrie _trie;
    readonly (string Token, int Id)[] _entries;
    readonly int _continuation;

    /// <summary>The unknown token string, e.g. "[UNK]".</summary>
    public string UnkToken { get; }
    /// <summary>Id of <see cref="UnkToken"/>.</summary>
    public int UnkId { get; }
    /// <summary>Prefix of pieces that continue a word, e.g. "##".</summary>
    public string ContinuingSubwordPrefix { get; }
    /// <summary>Longest word (in code points) that is split; longer words become <see cref="UnkToken"/>.</summary>
    public int MaxInputCharsPerWord { get; }

    /// <summary>Builds the model over a token → id vocabulary.</summary>
    /// <exception cref="TokenizerException">The vocabulary is empty, has a negative id, or lacks the unk token.</exception>
    public WordPieceModel(IReadOnlyDictionary<string, int> vocab, string unkToken = "[UNK]", string continuingSubwordPrefix = "##",
        int maxInputCharsPerWord = 100)
    {
        ArgumentNullException.ThrowIfNull(vocab);
        if (vocab.Count == 0) throw new TokenizerException("the WordPiece vocabulary is empty");
        _vocab = new Dictionary<string, int>(vocab, StringComparer.Ordinal);
        int maxId = -1;
        foreach (var (token, id) in _vocab)
        {
            if (id < 0) throw new TokenizerException($"the WordPiece vocabulary gives token '{token}' the negative id {id}");
            maxId = Math.Max(maxId, id);
        }
        _idToToken = new string?[maxId + 1];
        _entries = new (string, int)[_vocab.Count];
        int index = 0;
        foreach (var (token, id) in _vocab)
        {
            _idToToken[id] = token;
            _entries[index++] = (token, id);
        }
        _trie = new DoubleArrayTrie(_entries.Select((e, i) => new KeyValuePair<string, int>(e.Token, i)).Where(e => e.Key.Length > 0));
        if (!_vocab.TryGetValue(unkToken, out int unkId))
            throw new TokenizerException($"the WordPiece vocabulary has no entry for its unk token '{unkToken}'");
        if (maxInputCharsPerWord < 0) throw new TokenizerException($"max_input_chars_per_word is negative ({maxInputCharsPerWord})");
        UnkToken = unkToken;
        UnkId = unkId;
        ContinuingSubwordPrefix = continuingSubwordPrefix ?? "";
        MaxInputCharsPerWord = maxInputCharsPerWord;
        _continuation = DoubleArrayTrie.Root;
        foreach (char c in ContinuingSubwordPrefix)
            if (_continuation >= 0) _continuation = _trie.Child(_continuation, c);
    }

    /// <summary>Number of entries in the vocabulary.</summary>
    public int VocabularyCount => _vocab.Count;

    /// <summary>One past the largest id in the vocabulary.</summary>
    public int IdLimit => _idToToken.Length;

    /// <summary>Id of a vocabulary entry, or null.</summary>
    public int? TokenToId(string token) => _vocab.TryGetValue(token, out int id) ? id : null;

    /// <summary>Vocabulary entry of an id, or null.</summary>
    public string? IdToToken(int id) => (uint)id < (uint)_idToToken.Length ? _idToToken[id] : null;

    /// <summary>The vocabulary (token → id).</summary>
    public IReadOnlyDictionary<string, int> Vocabulary => _vocab;

    /// <summary>Appends the tokens of the word made of chars [from, to) of <paramref name="text"/> to <paramref name="output"/>.</summary>
    public void Tokenize(NormalizedText text, int from, int to, List<Token> output)
    {
        int charCount = to - from;
        if (charCount <= 0) return;
        var (wordStart, wordEnd) = text.OriginalSpan(from, to);
        if (charCount > MaxInputCharsPerWord)
        {
            output.Add(new Token(UnkId, UnkToken, wordStart, wordEnd));
            return;
        }

        // Greedy longest match: from each position, one walk down the trie (from the root at the word start, from
        // the node after the continuing-subword prefix elsewhere) gives the longest vocabulary entry there.
        var chars = text.Chars;
        int firstOutput = output.Count;
        int start = 0;
        while (start < charCount)
        {
            int node = start == 0 ? DoubleArrayTrie.Root : _continuation;
            int end = -1, entry = -1;
            for (int k = start; k < charCount && node >= 0; k++)
            {
                int c = chars[from + k];
                if (c < 0x10000) node = _trie.Child(node, (char)c);
                else
                {
                    node = _trie.Child(node, (char)(0xD800 + ((c - 0x10000) >> 10)));
                    if (node >= 0) node = _trie.Child(node, (char)(0xDC00 + ((c - 0x10000) & 0x3FF)));
                }
                if (node < 0) break;
                int value = _trie.Value(node);
                if (value >= 0) { end = k + 1; entry = value; }
            }
            if (end < 0)
            {
                output.RemoveRange(firstOutput, output.Count - firstOutput);
                output.Add(new Token(UnkId, UnkToken, wordStart, wordEnd));
                return;
            }
            var (token, id) = _entries[entry];
            output.Add(new Token(id, token, text.Alignment(from + start).Start, text.Alignment(from + end - 1).End));
            start = end;
        }
    }
}
