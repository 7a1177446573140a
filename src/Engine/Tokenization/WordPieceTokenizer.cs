namespace MixLens.Engine.Tokenization;

/// <summary>
/// A BERT-style WordPiece tokenizer that reproduces HuggingFace's <c>BertTokenizerFast</c> (tokenizers 0.23):
/// ids, token strings, type ids and offsets. Per sequence:
/// <list type="number">
/// <item>added tokens with <c>normalized: false</c> ([CLS], [SEP], [MASK], ... typed in the text) are cut out of
/// the raw text (<see cref="AddedVocabulary"/>);</item>
/// <item>each remaining piece is normalised (<see cref="BertNormalizer"/>) keeping its alignment to the original
/// text (<see cref="NormalizedText"/>), then normalised added tokens are cut out;</item>
/// <item>the rest is split into words (<see cref="BertPreTokenizer"/>) and each word into pieces
/// (<see cref="WordPieceModel"/>);</item>
/// <item>with <c>maxLength</c>, the sequences are truncated (<see cref="Truncation.LongestFirst"/>), then the
/// post-processor adds the special tokens (<see cref="TemplatePostProcessor"/>).</item>
/// </list>
/// Offsets are UTF-16 code units into the text the token came from (the pair's tokens into the pair text).
/// Instances are immutable and safe to use from several threads.
/// Source: tokenizers/src/tokenizer/mod.rs (<c>encode</c>, <c>encode_single_sequence</c>, <c>post_process</c>).
/// </summary>
public sealed class WordPieceTokenizer : ITokenizer
{
    /// <summary>The normalizer, or null for none.</summary>
    public INormalizer? Normalizer { get; }
    /// <summary>Whether the BertPreTokenizer splits words (false: each normalised piece is one word).</summary>
    public bool UsesBertPreTokenizer { get; }
    /// <summary>The WordPiece model.</summary>
    public WordPieceModel Model { get; }
    /// <summary>The added tokens.</summary>
    public AddedVocabulary AddedVocabulary { get; }
    /// <summary>The post-processor adding special tokens, or null for none.</summary>
    public TemplatePostProcessor? PostProcessor { get; }

    /// <inheritdoc/>
    public int PadId { get; }
    /// <inheritdoc/>
    public int? MaskId { get; }
    /// <inheritdoc/>
    public int? ModelMaxLength { get; init; }

    /// <summary>Assembles a tokenizer from its parts.</summary>
    /// <param name="padToken">Name of the padding token (<see cref="PadId"/> is its id; when null or unknown, "[PAD]"
    /// if present, else 0, BERT's <c>pad_token_id</c>).</param>
    /// <param name="maskToken">Name of the mask token (<see cref="MaskId"/> is its id; when null or unknown, "[MASK]"
    /// if present, else none).</param>
    public WordPieceTokenizer(WordPieceModel model, INormalizer? normalizer, bool usesBertPreTokenizer,
        AddedVocabulary addedVocabulary, TemplatePostProcessor? postProcessor, string? padToken = null, string? maskToken = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Normalizer = normalizer;
        UsesBertPreTokenizer = usesBertPreTokenizer;
        AddedVocabulary = addedVocabulary ?? throw new ArgumentNullException(nameof(addedVocabulary));
        PostProcessor = postProcessor;
        VocabSize = Math.Max(model.IdLimit, addedVocabulary.Tokens.Select(t => t.Id + 1).DefaultIfEmpty(0).Max());
        PadId = (padToken is null ? null : TokenToId(padToken)) ?? TokenToId("[PAD]") ?? 0;
        MaskId = (maskToken is null ? null : TokenToId(maskToken)) ?? TokenToId("[MASK]");
    }

    /// <summary>
    /// Loads a tokenizer from a HuggingFace model directory: from <c>tokenizer.json</c> when present, otherwise from
    /// <c>vocab.txt</c> with <c>tokenizer_config.json</c> / <c>special_tokens_map.json</c> when present.
    /// </summary>
    /// <exception cref="TokenizerException">The directory is missing, holds no WordPiece tokenizer (e.g. a BPE
    /// vocab.json + merges.txt), or a file is malformed; the message names the file.</exception>
    public static WordPieceTokenizer FromDirectory(string dir) => WordPieceTokenizerLoader.FromDirectory(dir);

    /// <summary>One past the largest id of the model vocabulary and the added tokens (the embedding rows needed;
    /// for BERT checkpoints the same as HF's <c>len(tokenizer)</c>).</summary>
    public int VocabSize { get; }

    /// <summary>The token string of an id (an added token's content first, as HF).</summary>
    /// <exception cref="ArgumentOutOfRangeException">No token has this id.</exception>
    public string IdToToken(int id) =>
        AddedVocabulary.Find(id)?.Content ?? Model.IdToToken(id)
        ?? throw new ArgumentOutOfRangeException(nameof(id), $"no token has id {id} (vocabulary size {VocabSize})");

    /// <inheritdoc/>
    public bool IsSpecialToken(int id) => AddedVocabulary.Find(id)?.Special == true;

    /// <inheritdoc/>
    public int? TokenToId(string token) => AddedVocabulary.Find(token)?.Id ?? Model.TokenToId(token);

    /// <summary>Number of special tokens the post-processor adds to one sequence or a pair.</summary>
    public int SpecialTokenCount(bool isPair) => PostProcessor?.AddedTokens(isPair) ?? 0;

    /// <inheritdoc/>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxLength"/> is smaller than the number of
    /// special tokens the post-processor adds.</exception>
    public Encoding Encode(string text, string? pair = null, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(text);
        InputLimits.CheckText(text, pair);
        bool isPair = pair is not null;
        int added = SpecialTokenCount(isPair);
        if (maxLength is int limit && limit < added)
            throw new ArgumentOutOfRangeException(nameof(maxLength), $"maxLength {limit} cannot hold the {added} special tokens of a {(isPair ? "pair" : "single text")}");

        var a = Tokenize(text, TokenBuffers.First());
        var b = isPair ? Tokenize(pair!, TokenBuffers.Second()) : null;
        if (maxLength is int max)
        {
            var (keepA, keepB) = Truncation.LongestFirst(a.Count, b?.Count, max - added);
            if (keepA < a.Count) a.RemoveRange(keepA, a.Count - keepA);
            if (b is not null && keepB < b.Count) b.RemoveRange(keepB, b.Count - keepB);
        }
        return PostProcessor is null ? TemplatePostProcessor.Plain(a, b) : PostProcessor.Apply(a, b);
    }

    /// <summary>
    /// The tokens of one text, without special tokens and without truncation (HF <c>encode_single_sequence</c>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public List<Token> Tokenize(string text) => Tokenize(text, []);

    /// <summary>Appends the tokens of one text to <paramref name="tokens"/> and returns it.</summary>
    List<Token> Tokenize(string text, List<Token> tokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Length == 0) return tokens;

        AddedVocabulary.ExtractAndNormalize(text, Normalizer, tokens, (normalized, from, to, _) =>
        {
            if (!UsesBertPreTokenizer)
            {
                Model.Tokenize(normalized, from, to, tokens);
                return;
            }
            // BertPreTokenizer.Split fused with the model: each word is tokenised as soon as it ends.
            var chars = normalized.Chars;
            int wordStart = from;
            for (int i = from; i < to; i++)
            {
                int c = chars[i];
                bool space = CharProperties.IsWhitespace(c);
                if (!space && !CharProperties.IsBertPunctuation(c)) continue;
                if (i > wordStart) Model.Tokenize(normalized, wordStart, i, tokens);
                if (!space) Model.Tokenize(normalized, i, i + 1, tokens);
                wordStart = i + 1;
            }
            if (to > wordStart) Model.Tokenize(normalized, wordStart, to, tokens);
        });
        return tokens;
    }
}
