namespace MixLens.Engine.Tokenization;

/// <summary>
/// HuggingFace's <c>AddedVocabulary</c>: finds added tokens (e.g. [CLS], [SEP], [MASK] typed in the text) before the
/// model sees the text, exactly as <c>extract_and_normalize</c> does:
/// <list type="number">
/// <item>tokens with <c>normalized: false</c> are matched in the raw text (leftmost-longest, non-overlapping, as the
/// aho-corasick automaton with <c>MatchKind::LeftmostLongest</c>);</item>
/// <item>each remaining piece is normalised on its own, then tokens with <c>normalized: true</c> are matched in it
/// against their normalised content.</item>
/// </list>
/// A match failing <c>single_word</c> is skipped (and its text is not searched again); <c>lstrip</c>/<c>rstrip</c>
/// extend a match over the whitespace (Rust regex <c>\s</c>) before/after it. The token string is the matched text.
/// Source: tokenizers/src/tokenizer/added_vocabulary.rs (<c>find_matches</c>, <c>split_with_indices</c>,
/// <c>extract_and_normalize</c>).
/// </summary>
public sealed class AddedVocabulary
{
    readonly Dictionary<string, AddedToken> _byContent = new(StringComparer.Ordinal);
    readonly Dictionary<int, AddedToken> _byId = new();
    readonly Matcher _rawMatcher;
    readonly Matcher _normalizedMatcher;

    /// <summary>A piece of a text: chars [Start, End) of a <see cref="NormalizedText"/>, and the added token it is, if any.</summary>
    public readonly record struct Piece(int Start, int End, AddedToken? Token);

    /// <summary>Builds the vocabulary; normalised tokens are matched against <paramref name="normalizer"/>(content).</summary>
    /// <exception cref="TokenizerException">A token has empty content or a negative id.</exception>
    public AddedVocabulary(IEnumerable<AddedToken> tokens, INormalizer? normalizer)
    {
        var raw = new List<(int[] Pattern, AddedToken Token)>();
        var normalized = new List<(int[] Pattern, AddedToken Token)>();
        foreach (var token in tokens)
        {
            if (string.IsNullOrEmpty(token.Content)) continue; // HF ignores empty added tokens
            if (token.Id < 0) throw new TokenizerException($"added token '{token.Content}' has the negative id {token.Id}");
            _byContent[token.Content] = token;
            _byId[token.Id] = token;
        }
        foreach (var token in _byContent.Values)
        {
            var text = new NormalizedText(token.Content, 0, token.Content.Length);
            if (token.Normalized && normalizer is not null) normalizer.Normalize(text);
            if (text.Length == 0) continue;
            (token.Normalized ? normalized : raw).Add((text.Chars.ToArray(), token));
        }
        _rawMatcher = new Matcher(raw);
        _normalizedMatcher = new Matcher(normalized);
    }

    /// <summary>All added tokens.</summary>
    public IReadOnlyCollection<AddedToken> Tokens => _byContent.Values;

    /// <summary>The added token with this content, or null.</summary>
    public AddedToken? Find(string content) => _byContent.GetValueOrDefault(content);

    /// <summary>The added token with this id, or null.</summary>
    public AddedToken? Find(int id) => _byId.GetValueOrDefault(id);

    /// <summary>Whether any token is matched in raw text.</summary>
    public bool HasRawTokens => !_rawMatcher.IsEmpty;

    /// <summary>Whether any token is matched in normalised text.</summary>
    public bool HasNormalizedTokens => !_normalizedMatcher.IsEmpty;

    /// <summary>Splits chars [from, to) of raw (not yet normalised) text into added tokens with <c>normalized: false</c>
    /// and the pieces between them; empty pieces are dropped.</summary>
    public void SplitRaw(NormalizedText text, int from, int to, List<Piece> pieces) =>
        _rawMatcher.Split(text.Chars, from, to, pieces);

    /// <summary>Splits chars [from, to) of normalised text into added tokens with <c>normalized: true</c> and the
    /// pieces between them; empty pieces are dropped.</summary>
    public void SplitNormalized(NormalizedText text, int from, int to, List<Piece> pieces) =>
        _normalizedMatcher.Split(text.Chars, from, to, pieces);

    /// <summary>
    /// HF <c>extract_and_normalize</c> for one text: cuts the raw added tokens out, normalises each remaining piece
    /// with <paramref name="normalizer"/>, cuts the normalised added tokens out of it, and hands every other piece
    /// (a normalised text, its char range and <paramref name="tokens"/>) to <paramref name="tokenizePiece"/>, which
    /// appends its tokens there (so that a tokenizer can pass one delegate made once, capturing nothing per call).
    /// Added tokens are appended as they come (their string is the matched text, whitespace taken by lstrip/rstrip
    /// included), so the tokens stay in text order. The normalised text handed to <paramref name="tokenizePiece"/>
    /// is this thread's reusable one: valid during that call only.
    /// </summary>
    public void ExtractAndNormalize(string text, INormalizer? normalizer, List<Token> tokens, Action<NormalizedText, int, int, List<Token>> tokenizePiece)
    {
        if (text.Length == 0) return;
        if (!HasRawTokens || !_rawMatcher.MayOccurIn(text))
        {
            // No raw token can start anywhere in the text: it is one piece.
            NormalizePiece(text, 0, text.Length, normalizer, tokens, tokenizePiece);
            return;
        }
        var raw = new NormalizedText(text, 0, text.Length);
        var pieces = new List<Piece>();
        SplitRaw(raw, 0, raw.Length, pieces);
        foreach (var piece in pieces)
        {
            var (start, end) = raw.OriginalSpan(piece.Start, piece.End);
            if (piece.Token is not null) tokens.Add(new Token(piece.Token.Id, text[start..end], start, end));
            else NormalizePiece(text, start, end, normalizer, tokens, tokenizePiece);
        }
    }

    /// <summary>Normalises text[start..end), cuts the normalised added tokens out of it and tokenises the rest.</summary>
    void NormalizePiece(string text, int start, int end, INormalizer? normalizer, List<Token> tokens, Action<NormalizedText, int, int, List<Token>> tokenizePiece)
    {
        var normalized = NormalizedText.Reuse(text, start, end); // this piece's alone: tokenised before the next one
        normalizer?.Normalize(normalized);
        if (normalized.Length == 0) return;
        if (!HasNormalizedTokens || !_normalizedMatcher.MayOccurIn(normalized.Chars))
        {
            tokenizePiece(normalized, 0, normalized.Length, tokens);
            return;
        }
        var subPieces = new List<Piece>();
        SplitNormalized(normalized, 0, normalized.Length, subPieces);
        foreach (var sub in subPieces)
        {
            if (sub.Token is not null)
            {
                var (s, e) = normalized.OriginalSpan(sub.Start, sub.End);
                tokens.Add(new Token(sub.Token.Id, normalized.Substring(sub.Start, sub.End), s, e));
            }
            else tokenizePiece(normalized, sub.Start, sub.End, tokens);
        }
    }

    /// <summary>Leftmost-longest matching of a set of patterns, with HF's single_word/lstrip/rstrip handling.</summary>
    sealed class Matcher
    {
        // Patterns by their first char, longest first.
        readonly Dictionary<int, (int[] Pattern, AddedToken Token)[]> _byFirst;

        // Which BMP chars start a pattern (one bit each), whether one starts outside the BMP, and the BMP first chars
        // for a vectorised search of a string.
        readonly ulong[] _firstBmp = new ulong[0x10000 / 64];
        readonly bool _firstOutsideBmp;
        readonly System.Buffers.SearchValues<char> _firstChars;

        public Matcher(List<(int[] Pattern, AddedToken Token)> patterns)
        {
            _byFirst = patterns
                .GroupBy(p => p.Pattern[0])
                .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Pattern.Length).ToArray());
            var firstChars = new List<char>();
            foreach (int c in _byFirst.Keys)
            {
                if (c is >= 0 and < 0x10000)
                {
                    _firstBmp[c >> 6] |= 1UL << (c & 63);
                    firstChars.Add((char)c);
                }
                else _firstOutsideBmp = true;
            }
            _firstChars = System.Buffers.SearchValues.Create(firstChars.ToArray());
        }

        public bool IsEmpty => _byFirst.Count == 0;

        bool IsFirst(int c) => (uint)c < 0x10000 ? (_firstBmp[c >> 6] & (1UL << (c & 63))) != 0 : _firstOutsideBmp;

        /// <summary>False when no pattern can start anywhere in the string (its first char does not occur).</summary>
        public bool MayOccurIn(string text) => _firstOutsideBmp || text.AsSpan().IndexOfAny(_firstChars) >= 0;

        /// <summary>False when no pattern can start anywhere in the chars.</summary>
        public bool MayOccurIn(ReadOnlySpan<int> chars)
        {
            foreach (int c in chars)
                if (IsFirst(c)) return true;
            return false;
        }

        public void Split(ReadOnlySpan<int> chars, int from, int to, List<Piece> pieces)
        {
            int pieceStart = from; // HF start_offset
            int position = from;   // where the automaton searches next
            while (position < to)
            {
                var (matchEnd, token) = LongestAt(chars, position, to);
                if (token is null)
                {
                    position++;
                    continue;
                }
                int start = position, stop = matchEnd;
                position = matchEnd;
                if (token.SingleWord)
                {
                    bool startSpace = start == from || !CharProperties.IsWordChar(chars[start - 1]);
                    bool stopSpace = stop == to || !CharProperties.IsWordChar(chars[stop]);
                    if (!startSpace || !stopSpace) continue;
                }
                if (token.Lstrip)
                {
                    int newStart = start;
                    while (newStart > from && CharProperties.IsWhitespace(chars[newStart - 1])) newStart--;
                    start = Math.Max(newStart, pieceStart);
                }
                if (token.Rstrip)
                    while (stop < to && CharProperties.IsWhitespace(chars[stop])) stop++;
                if (pieceStart < start) pieces.Add(new Piece(pieceStart, start, null));
                pieces.Add(new Piece(start, stop, token));
                pieceStart = stop;
            }
            if (pieceStart < to) pieces.Add(new Piece(pieceStart, to, null));
        }

        (int End, AddedToken? Token) LongestAt(ReadOnlySpan<int> chars, int position, int to)
        {
            if (!IsFirst(chars[position]) || !_byFirst.TryGetValue(chars[position], out var candidates)) return (position, null);
            foreach (var (pattern, token) in candidates)
            {
                if (pattern.Length <= to - position && chars.Slice(position, pattern.Length).SequenceEqual(pattern))
                    return (position + pattern.Length, token);
            }
            return (position, null);
        }
    }
}
