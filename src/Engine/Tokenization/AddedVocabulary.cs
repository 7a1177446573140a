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
    /// (a normalised text and its char range) to <paramref name="tokenizePiece"/>, which appends its tokens to
    /// <paramref name="tokens"/>. Added tokens are appended as they come (their string is the matched text,
    /// whitespace taken by lstrip/rstrip included), so the tokens stay in text order.
    /// </summary>
    public void ExtractAndNormalize(string text, INormalizer? normalizer, List<Token> tokens, Action<NormalizedText, int, int> tokenizePiece)
    {
        if (text.Length == 0) return;
        var raw = new NormalizedText(text, 0, text.Length);
        var pieces = new List<Piece>();
        if (HasRawTokens) SplitRaw(raw, 0, raw.Length, pieces);
        else pieces.Add(new Piece(0, raw.Length, null));

        var subPieces = new List<Piece>();
        foreach (var piece in pieces)
        {
            var (start, end) = raw.OriginalSpan(piece.Start, piece.End);
            if (piece.Token is not null)
            {
                tokens.Add(new Token(piece.Token.Id, text[start..end], start, end));
                continue;
            }
            var normalized = new NormalizedText(text, start, end);
            normalizer?.Normalize(normalized);
            subPieces.Clear();
            if (HasNormalizedTokens) SplitNormalized(normalized, 0, normalized.Length, subPieces);
            else if (normalized.Length > 0) subPieces.Add(new Piece(0, normalized.Length, null));
            foreach (var sub in subPieces)
            {
                if (sub.Token is not null)
                {
                    var (s, e) = normalized.OriginalSpan(sub.Start, sub.End);
                    tokens.Add(new Token(sub.Token.Id, normalized.Substring(sub.Start, sub.End), s, e));
                }
                else tokenizePiece(normalized, sub.Start, sub.End);
            }
        }
    }

    /// <summary>Leftmost-longest matching of a set of patterns, with HF's single_word/lstrip/rstrip handling.</summary>
    sealed class Matcher
    {
        // Patterns by their first char, longest first.
        readonly Dictionary<int, (int[] Pattern, AddedToken Token)[]> _byFirst;

        public Matcher(List<(int[] Pattern, AddedToken Token)> patterns)
        {
            _byFirst = patterns
                .GroupBy(p => p.Pattern[0])
                .ToDictionary(g => g.Key, g => g.OrderByDescending(p => p.Pattern.Length).ToArray());
        }

        public bool IsEmpty => _byFirst.Count == 0;

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
            if (!_byFirst.TryGetValue(chars[position], out var candidates)) return (position, null);
            foreach (var (pattern, token) in candidates)
            {
                if (pattern.Length <= to - position && chars.Slice(position, pattern.Length).SequenceEqual(pattern))
                    return (position + pattern.Length, token);
            }
            return (position, null);
        }
    }
}
