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
    readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> _lookup;
    readonly string?[] _idToToken;
    readonly int _longestEntry; // UTF-16 length of the longest vocabulary entry: longer candidates cannot match

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
        _lookup = _vocab.GetAlternateLookup<ReadOnlySpan<char>>();
        int maxId = -1;
        foreach (var (token, id) in _vocab)
        {
            if (id < 0) throw new TokenizerException($"the WordPiece vocabulary gives token '{token}' the negative id {id}");
            maxId = Math.Max(maxId, id);
        }
        _idToToken = new string?[maxId + 1];
        foreach (var (token, id) in _vocab)
        {
            _idToToken[id] = token;
            _longestEntry = Math.Max(_longestEntry, token.Length);
        }
        if (!_vocab.TryGetValue(unkToken, out int unkId))
            throw new TokenizerException($"the WordPiece vocabulary has no entry for its unk token '{unkToken}'");
        if (maxInputCharsPerWord < 0) throw new TokenizerException($"max_input_chars_per_word is negative ({maxInputCharsPerWord})");
        UnkToken = unkToken;
        UnkId = unkId;
        ContinuingSubwordPrefix = continuingSubwordPrefix ?? "";
        MaxInputCharsPerWord = maxInputCharsPerWord;
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

        // The word in UTF-16, and where each of its chars starts in it.
        var chars = text.Chars;
        int prefixLength = ContinuingSubwordPrefix.Length;
        int capacity = 2 * charCount;
        Span<char> word = capacity <= 512 ? stackalloc char[capacity] : new char[capacity];
        Span<int> boundary = charCount < 256 ? stackalloc int[charCount + 1] : new int[charCount + 1];
        int length = 0;
        for (int k = 0; k < charCount; k++)
        {
            boundary[k] = length;
            int c = chars[from + k];
            if (c < 0x10000) word[length++] = (char)c;
            else
            {
                word[length++] = (char)(0xD800 + ((c - 0x10000) >> 10));
                word[length++] = (char)(0xDC00 + ((c - 0x10000) & 0x3FF));
            }
        }
        boundary[charCount] = length;
        int candidateCapacity = prefixLength + length;
        Span<char> candidate = candidateCapacity <= 512 ? stackalloc char[candidateCapacity] : new char[candidateCapacity];

        int firstOutput = output.Count;
        int start = 0;
        while (start < charCount)
        {
            // candidate = (prefix unless at the word start) + word[start..]
            int head = start > 0 ? prefixLength : 0;
            if (head > 0) ContinuingSubwordPrefix.AsSpan().CopyTo(candidate);
            word[boundary[start]..length].CopyTo(candidate[head..]);

            int end = charCount;
            bool found = false;
            for (; end > start; end--)
            {
                int pieceLength = head + boundary[end] - boundary[start];
                if (pieceLength > _longestEntry) continue;
                if (_lookup.TryGetValue(candidate[..pieceLength], out string? value, out int id))
                {
                    output.Add(new Token(id, value, text.Alignment(from + start).Start, text.Alignment(from + end - 1).End));
                    found = true;
                    break;
                }
            }
            if (!found)
            {
                output.RemoveRange(firstOutput, output.Count - firstOutput);
                output.Add(new Token(UnkId, UnkToken, wordStart, wordEnd));
                return;
            }
            start = end;
        }
    }
}
