namespace MixLens.Engine.Tokenization;

/// <summary>
/// A SentencePiece Unigram tokenizer (T5, XLM-R, ALBERT, CamemBERT...) that reproduces HuggingFace's fast tokenizer
/// (tokenizers 0.23): ids, token strings, type ids and offsets. Per sequence:
/// <list type="number">
/// <item>added tokens (&lt;/s&gt;, &lt;extra_id_0&gt;, ... typed in the text) are cut out (<see cref="AddedVocabulary"/>);</item>
/// <item>the rest is normalised (usually <see cref="PrecompiledNormalizer"/>: NFKC per grapheme, some spaces and
/// controls), keeping its alignment to the original text;</item>
/// <item>it is split into words and each gets its '▁' (<see cref="MetaspacePreTokenizer"/>);</item>
/// <item>each word is segmented by <see cref="UnigramModel"/> (Viterbi; unknown runs fused into one unk token whose
/// string is the surface text);</item>
/// <item>with <c>maxLength</c> the sequences are truncated; the post-processor adds the special tokens
/// (T5: <c>A &lt;/s&gt;</c>, <c>A &lt;/s&gt; B &lt;/s&gt;</c>, all type ids 0).</item>
/// </list>
/// Offsets are UTF-16 code units into the text the token came from; chars the normaliser deleted fall between
/// tokens. Instances are immutable (the caches are thread-safe) and safe to use from several threads.
/// Source: tokenizers/src/tokenizer/mod.rs (<c>encode</c>), normalizers/precompiled.rs, pre_tokenizers/metaspace.rs,
/// models/unigram/model.rs; Kudo &amp; Richardson 2018, "SentencePiece".
/// </summary>
public sealed class UnigramTokenizer : ITokenizer
{
    /// <summary>The Unigram model.</summary>
    public UnigramModel Model { get; }
    /// <summary>The normalizer, or null.</summary>
    public INormalizer? Normalizer { get; }
    /// <summary>The pre-tokenizer.</summary>
    public MetaspacePreTokenizer PreTokenizer { get; }
    /// <summary>The added tokens.</summary>
    public AddedVocabulary AddedVocabulary { get; }
    /// <summary>The post-processor adding special tokens, or null for none.</summary>
    public TemplatePostProcessor? PostProcessor { get; }
    /// <summary>Whether the post-processor trims spaces from the offsets (RobertaProcessing <c>trim_offsets</c>, used by some XLM-R files).</summary>
    public bool TrimOffsets { get; }
    /// <summary>The post-processor's <c>add_prefix_space</c>, which keeps one leading space of a first token when trimming.</summary>
    public bool TrimKeepsPrefixSpace { get; }

    /// <inheritdoc/>
    public int PadId { get; }
    /// <inheritdoc/>
    public int? MaskId { get; }
    /// <inheritdoc/>
    public int? ModelMaxLength { get; init; }
    /// <summary>One past the largest id of the pieces and the added tokens.</summary>
    public int VocabSize { get; }

    /// <summary>Assembles a tokenizer from its parts.</summary>
    /// <param name="padToken">Name of the padding token (default "&lt;pad&gt;"; <see cref="PadId"/> is 0 when neither is known).</param>
    /// <param name="maskToken">Name of the mask token (default "&lt;mask&gt;"; none when unknown).</param>
    public UnigramTokenizer(UnigramModel model, INormalizer? normalizer, MetaspacePreTokenizer preTokenizer,
        AddedVocabulary addedVocabulary, TemplatePostProcessor? postProcessor, bool trimOffsets = false, bool trimKeepsPrefixSpace = false,
        string? padToken = null, string? maskToken = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Normalizer = normalizer;
        PreTokenizer = preTokenizer ?? throw new ArgumentNullException(nameof(preTokenizer));
        AddedVocabulary = addedVocabulary ?? throw new ArgumentNullException(nameof(addedVocabulary));
        PostProcessor = postProcessor;
        TrimOffsets = trimOffsets;
        TrimKeepsPrefixSpace = trimKeepsPrefixSpace;
        VocabSize = Math.Max(model.Count, addedVocabulary.Tokens.Select(t => t.Id + 1).DefaultIfEmpty(0).Max());
        _tokenizePiece = TokenizePiece;
        _replacementIsUnit = preTokenizer.Replacement is < 0x10000 and not (>= 0xD800 and <= 0xDFFF);
        _replacementChar = (char)preTokenizer.Replacement;
        PadId = (padToken is null ? null : TokenToId(padToken)) ?? TokenToId("<pad>") ?? 0;
        MaskId = (maskToken is null ? null : TokenToId(maskToken)) ?? TokenToId("<mask>");
    }

    /// <summary>The token string of an id (an added token's content first, as HF).</summary>
    /// <exception cref="ArgumentOutOfRangeException">No token has this id.</exception>
    public string IdToToken(int id) =>
        AddedVocabulary.Find(id)?.Content ?? Model.IdToToken(id)
        ?? throw new ArgumentOutOfRangeException(nameof(id), $"no token has id {id} (vocabulary size {VocabSize})");

    /// <inheritdoc/>
    public bool IsSpecialToken(int id) => AddedVocabulary.Find(id)?.Special == true;

    /// <inheritdoc/>
    public int? TokenToId(string token) => AddedVocabulary.Find(token)?.Id ?? Model.TokenToId(token);

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is smaller than the number of
    /// special tokens the post-processor adds.</exception>
    public Encoding Encode(string text, string? pair = null, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        InputLimits.CheckText(text, pair);
        var a = Tokenize(text, TokenBuffers.First());
        var b = pair is null ? null : Tokenize(pair, TokenBuffers.Second());
        return PostProcessing.Finish(a, b, maxLength, PostProcessor, TrimOffsets, TrimKeepsPrefixSpace);
    }

    /// <summary>The tokens of one text, without special tokens or truncation (HF <c>encode_single_sequence</c>).</summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public List<Token> Tokenize(string text) => Tokenize(text, []);

    /// <summary>Appends the tokens of one text to <paramref name="tokens"/> and returns it.</summary>
    List<Token> Tokenize(string text, List<Token> tokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        AddedVocabulary.ExtractAndNormalize(text, Normalizer, tokens, _tokenizePiece);
        return tokens;
    }

    /// <summary>
    /// Pre-tokenises chars [from, to) of a normalised text as <see cref="PreTokenizer"/> does (whitespace split, the
    /// '▁' mapping, prepending and splitting before each '▁') without building a text per word, and appends the
    /// tokens of every word. A text that is still its original string, one UTF-16 unit per char
    /// (<see cref="NormalizedText.IsPlainOriginal"/>), is split there.
    /// </summary>
    void TokenizePiece(NormalizedText normalized, int from, int to, List<Token> tokens)
    {
        if (!PreTokenizer.WhitespaceSplit)
        {
            if (to > from) TokenizeWord(normalized, from, to, tokens);
            return;
        }
        if (normalized.IsPlainOriginal && _replacementIsUnit)
        {
            int offset = normalized.OriginalStart;
            var text = normalized.Original.AsSpan(offset, to);
            for (int i = from; i < to;)
            {
                while (i < to && IsWhitespace(text[i])) i++;
                int start = i;
                while (i < to && !IsWhitespace(text[i])) i++;
                if (i > start) TokenizeOriginalWord(text[start..i], offset + start, Prepends(text[start], offset + start) ? 1 : 0, tokens);
            }
            return;
        }
        var chars = normalized.Chars;
        int w = from;
        while (w < to)
        {
            while (w < to && IsWhitespace(chars[w])) w++;
            int start = w;
            while (w < to && !IsWhitespace(chars[w])) w++;
            if (w > start) TokenizeWord(normalized, start, w, tokens);
        }
    }

    /// <summary><see cref="CharProperties.IsWhitespace"/>, inlined for the chars outside [U+0085, U+00A0] and
    /// [U+1680, U+3000], where it has no other white space than \t to \r and ' ': ASCII, the Latin, Greek,
    /// Cyrillic, Hebrew, Arabic, Indic and Thai blocks, CJK and Hangul.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    static bool IsWhitespace(int c) => c <= ' '
        ? c == ' ' || (uint)(c - '\t') <= '\r' - '\t'
        : ((uint)(c - 0x85) <= 0xA0 - 0x85 || (uint)(c - 0x1680) <= 0x3000 - 0x1680) && CharProperties.IsWhitespace(c);

    // TokenizePiece as a delegate, made once.
    readonly Action<NormalizedText, int, int, List<Token>> _tokenizePiece;

    // Whether the replacement char is one UTF-16 unit (the view of an original word is then written in place), and it.
    readonly bool _replacementIsUnit;
    readonly char _replacementChar;

    /// <summary>Whether Metaspace puts the replacement char before a word starting with <paramref name="first"/>
    /// (a space counts as the replacement) at <paramref name="originalStart"/> of the original text.</summary>
    bool Prepends(int first, int originalStart)
    {
        int replacement = PreTokenizer.Replacement;
        return PreTokenizer.PrependScheme switch
        {
            MetaspacePreTokenizer.Prepend.Always => true,
            MetaspacePreTokenizer.Prepend.First => originalStart == 0,
            _ => false,
        } && (first == ' ' ? replacement : first) != replacement;
    }

    /// <summary>
    /// One word, chars [from, to) (not empty): Metaspace's view of it is the replacement char when prepended
    /// (with the span of the word's first char, as HF's <c>prepend</c>), then the word's chars with ' ' mapped to
    /// the replacement; with <c>split</c> it is cut before every replacement char after the first position.
    /// </summary>
    void TokenizeWord(NormalizedText normalized, int from, int to, List<Token> tokens)
    {
        var chars = normalized.Chars;
        var starts = normalized.Starts;
        var ends = normalized.Ends;
        int replacement = PreTokenizer.Replacement;
        int shift = Prepends(chars[from], starts[from]) ? 1 : 0;
        int length = to - from + shift;

        if (normalized.IsPristine && _replacementIsUnit && ends[to - 1] - starts[from] == to - from)
        {
            // An unchanged word without surrogate pairs: its UTF-16 is the original text.
            TokenizeOriginalWord(normalized.Original.AsSpan(starts[from], to - from), starts[from], shift, tokens);
            return;
        }

        // The view in UTF-16, cut into subwords as it is written: a subword ends before each replacement char.
        Span<char> utf16 = length <= 128 ? stackalloc char[2 * length] : LongWordBuffer.UnigramView(2 * length);
        int used = 0, subwordUnits = 0, subwordStart = 0; // UTF-16 end, UTF-16 start and view start of the subword
        for (int v = 0; v <= length; v++)
        {
            int c = v == length ? -1 : v < shift ? replacement : chars[from + v - shift] == ' ' ? replacement : chars[from + v - shift];
            if (v == length || (v > 0 && c == replacement && PreTokenizer.Split))
            {
                var packed = Model.TokenizeUtf16(utf16[subwordUnits..used]);
                for (int k = 0, at = PackedWords.First(packed); k < PackedWords.Count(packed); k++, at += 3)
                {
                    // View position p is normalised char from + p - shift; the prepended char (p = 0) is char from.
                    int a = Math.Max(from + subwordStart + packed[at + 1] - shift, from);
                    int b = Math.Max(from + subwordStart + packed[at + 2] - 1 - shift, from);
                    tokens.Add(new Token(packed[at], Model.PieceString(packed, k), starts[a], ends[b]));
                }
                if (v == length) break;
                subwordUnits = used;
                subwordStart = v;
            }
            if (c < 0x10000) utf16[used++] = (char)c;
            else
            {
                utf16[used++] = (char)(0xD800 + ((c - 0x10000) >> 10));
                utf16[used++] = (char)(0xDC00 + ((c - 0x10000) & 0x3FF));
            }
        }
    }

    /// <summary><see cref="TokenizeWord"/> for a word that is exactly original text, one UTF-16 unit per char, at
    /// <paramref name="offset"/> of the original string: the view is the (prepended) replacement then the word, spaces
    /// replaced, cut before each replacement char with a vectorised search; token offsets are computed.</summary>
    void TokenizeOriginalWord(ReadOnlySpan<char> word, int offset, int shift, List<Token> tokens)
    {
        char replacement = _replacementChar;
        int length = word.Length + shift;
        Span<char> view = length <= 256 ? stackalloc char[length] : LongWordBuffer.UnigramView(length);
        view = view[..length];
        if (shift == 1) view[0] = replacement;
        word.CopyTo(view[shift..]);
        if (!PreTokenizer.WhitespaceSplit) view[shift..].Replace(' ', replacement); // a split word holds no space
        int start = 0;
        while (true)
        {
            int next = PreTokenizer.Split && start + 1 < length ? view[(start + 1)..].IndexOf(replacement) : -1;
            int end = next < 0 ? length : start + 1 + next;
            var packed = Model.TokenizeUtf16(view[start..end]);
            for (int k = 0, at = PackedWords.First(packed); k < PackedWords.Count(packed); k++, at += 3)
            {
                // View position p is word char p - shift; the prepended char (p = 0) has the span of char 0.
                int a = Math.Max(start + packed[at + 1] - shift, 0);
                int b = Math.Max(start + packed[at + 2] - 1 - shift, 0);
                tokens.Add(new Token(packed[at], Model.PieceString(packed, k), offset + a, offset + b + 1));
            }
            if (next < 0) break;
            start = end;
        }
    }
}
