using System.Text;

namespace MixLens.Engine.Tokenization;

/// <summary>
/// A byte-level BPE tokenizer (GPT-2, RoBERTa, BART...) that reproduces HuggingFace's fast tokenizer
/// (tokenizers 0.23): ids, token strings, type ids and offsets. Per sequence:
/// <list type="number">
/// <item>added tokens (&lt;s&gt;, &lt;mask&gt;, ... typed in the text) are cut out, taking the whitespace their
/// lstrip/rstrip flags ask for (<see cref="AddedVocabulary"/>); the optional normalizer runs on the rest;</item>
/// <item>ByteLevel pre-tokenisation: with <see cref="AddPrefixSpace"/> a space is put before a piece that does not
/// start with one, the piece is split by the GPT-2 regex (<see cref="ByteLevel.Split"/>, when
/// <see cref="UseRegex"/>), and each split is turned into its UTF-8 bytes in the byte-to-unicode alphabet, every
/// byte char keeping the span of the char it came from;</item>
/// <item>each split is merged by the <see cref="BpeModel"/>; a token's offsets are the span from its first byte's
/// char to its last byte's char (so byte tokens of one char share its span, and a token straddling two chars spans
/// both);</item>
/// <item>with <see cref="TrimOffsets"/>, leading/trailing 'Ġ' and whitespace of a token are trimmed from its offsets
/// (<see cref="ByteLevel.TrimOffsets"/>: a lone 'Ġ' gets a zero-width span at the next word); with
/// <c>maxLength</c> the sequences are truncated (<see cref="Truncation.LongestFirst"/>); the post-processor adds
/// the special tokens (RoBERTa: <c>&lt;s&gt; A &lt;/s&gt;</c>, <c>&lt;s&gt; A &lt;/s&gt;&lt;/s&gt; B &lt;/s&gt;</c>, all type ids 0).</item>
/// </list>
/// Offsets are UTF-16 code units into the text the token came from. Instances are immutable (the word cache is
/// thread-safe) and safe to use from several threads.
/// Source: tokenizers/src/tokenizer/mod.rs (<c>encode</c>), pre_tokenizers/byte_level.rs, models/bpe/model.rs,
/// processors/roberta.rs; Radford et al. 2019 (GPT-2) §2.2 "Input Representation".
/// </summary>
public sealed class BpeTokenizer : ITokenizer
{
    /// <summary>The BPE model.</summary>
    public BpeModel Model { get; }
    /// <summary>The normalizer, or null (RoBERTa and GPT-2 have none).</summary>
    public INormalizer? Normalizer { get; }
    /// <summary>ByteLevel pre-tokenizer: whether a space is put before each piece that does not start with one.</summary>
    public bool AddPrefixSpace { get; }
    /// <summary>ByteLevel pre-tokenizer: whether pieces are split by the GPT-2 regex.</summary>
    public bool UseRegex { get; }
    /// <summary>The added tokens.</summary>
    public AddedVocabulary AddedVocabulary { get; }
    /// <summary>The post-processor adding special tokens, or null for none.</summary>
    public TemplatePostProcessor? PostProcessor { get; }
    /// <summary>Whether the post-processor trims spaces from the offsets (HF <c>trim_offsets</c>).</summary>
    public bool TrimOffsets { get; }
    /// <summary>The post-processor's <c>add_prefix_space</c>, which keeps one leading space of a first token when trimming.</summary>
    public bool TrimKeepsPrefixSpace { get; }

    /// <inheritdoc/>
    public int PadId { get; }
    /// <inheritdoc/>
    public int? MaskId { get; }
    /// <inheritdoc/>
    public int? ModelMaxLength { get; init; }
    /// <summary>One past the largest id of the model vocabulary and the added tokens.</summary>
    public int VocabSize { get; }

    /// <summary>Assembles a tokenizer from its parts.</summary>
    /// <param name="padToken">Name of the padding token (default "&lt;pad&gt;"; <see cref="PadId"/> is 0 when neither is known).</param>
    /// <param name="maskToken">Name of the mask token (default "&lt;mask&gt;"; none when unknown).</param>
    public BpeTokenizer(BpeModel model, INormalizer? normalizer, bool addPrefixSpace, bool useRegex,
        AddedVocabulary addedVocabulary, TemplatePostProcessor? postProcessor, bool trimOffsets, bool trimKeepsPrefixSpace,
        string? padToken = null, string? maskToken = null)
    {
        Model = model ?? throw new ArgumentNullException(nameof(model));
        Normalizer = normalizer;
        AddPrefixSpace = addPrefixSpace;
        UseRegex = useRegex;
        AddedVocabulary = addedVocabulary ?? throw new ArgumentNullException(nameof(addedVocabulary));
        PostProcessor = postProcessor;
        TrimOffsets = trimOffsets;
        TrimKeepsPrefixSpace = trimKeepsPrefixSpace;
        VocabSize = Math.Max(model.IdLimit, addedVocabulary.Tokens.Select(t => t.Id + 1).DefaultIfEmpty(0).Max());
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
        var a = Tokenize(text, TokenBuffers.First());
        var b = pair is null ? null : Tokenize(pair, TokenBuffers.Second());
        return PostProcessing.Finish(a, b, maxLength, PostProcessor, TrimOffsets, TrimKeepsPrefixSpace);
    }

    /// <summary>
    /// The tokens of one text, without special tokens, offset trimming or truncation (HF <c>encode_single_sequence</c>).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="text"/> is null.</exception>
    public List<Token> Tokenize(string text) => Tokenize(text, []);

    /// <summary>Appends the tokens of one text to <paramref name="tokens"/> and returns it.</summary>
    List<Token> Tokenize(string text, List<Token> tokens)
    {
        ArgumentNullException.ThrowIfNull(text);
        var splits = new List<(int Start, int End)>();
        StringBuilder? mapped = null;
        List<(int Start, int End)>? spans = null;
        AddedVocabulary.ExtractAndNormalize(text, Normalizer, tokens, (normalized, from, to, _) =>
        {
            var piece = normalized;
            if (AddPrefixSpace && normalized[from] != ' ')
            {
                piece = normalized.Slice(from, to);
                piece.Prepend(' ');
                (from, to) = (0, piece.Length);
            }
            splits.Clear();
            if (UseRegex) ByteLevel.Split(piece.Chars, from, to, splits);
            else splits.Add((from, to));
            var chars = piece.Chars;
            foreach (var (start, end) in splits)
            {
                if (Model.IsByteLevel)
                {
                    // The word's tokens by its code points (cached by its text); a token spans its chars.
                    foreach (var p in Model.TokenizeByteLevel(chars[start..end]))
                        tokens.Add(new Token(p.Id, Model.IdToToken(p.Id)!, piece.Alignment(start + p.Start).Start, piece.Alignment(start + p.End - 1).End));
                    continue;
                }
                (mapped ??= new StringBuilder()).Clear();
                (spans ??= []).Clear();
                ByteLevel.ToBytes(piece, start, end, mapped, spans);
                foreach (var p in Model.Tokenize(mapped.ToString()))
                {
                    string value = Model.IdToToken(p.Id)!;
                    tokens.Add(new Token(p.Id, value, spans[p.Start].Start, spans[p.End - 1].End));
                }
            }
        });
        return tokens;
    }
}
