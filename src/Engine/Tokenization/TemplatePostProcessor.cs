namespace MixLens.Engine.Tokenization;

/// <summary>
/// HuggingFace's <c>TemplateProcessing</c> post-processor (and <c>BertProcessing</c>, which is the template
/// <c>[CLS]:0 $A:0 [SEP]:0</c> / <c>[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1</c>): lays the encoded sequences out with the
/// special tokens around them. Every token of a sequence piece gets the piece's type id and its sequence id (0 for
/// $A, 1 for $B); an inserted special token gets offsets [0,0], no sequence id and special-tokens-mask 1.
/// Source: tokenizers/src/processors/template.rs, tokenizers/src/processors/bert.rs.
/// </summary>
public sealed class TemplatePostProcessor
{
    /// <summary>One element of a template: a special token (by its id in <see cref="SpecialTokens"/>) or a sequence.</summary>
    public abstract record Piece(int TypeId);
    /// <summary>The special token named <paramref name="Id"/> (its ids and strings are in <see cref="SpecialTokens"/>).</summary>
    public sealed record SpecialTokenPiece(string Id, int TypeId) : Piece(TypeId);
    /// <summary>Sequence A (<paramref name="IsPair"/> false) or B.</summary>
    public sealed record SequencePiece(bool IsPair, int TypeId) : Piece(TypeId);
    /// <summary>What a special-token piece inserts: one or more ids with their token strings.</summary>
    public sealed record SpecialToken(string Id, int[] Ids, string[] Tokens);

    /// <summary>Template for a single sequence.</summary>
    public IReadOnlyList<Piece> Single { get; }
    /// <summary>Template for a pair of sequences.</summary>
    public IReadOnlyList<Piece> Pair { get; }
    /// <summary>The special tokens the templates refer to, by id.</summary>
    public IReadOnlyDictionary<string, SpecialToken> SpecialTokens { get; }

    /// <summary>Builds the processor.</summary>
    /// <exception cref="TokenizerException">A template names a special token that is not defined, a special token
    /// has different numbers of ids and strings, the single template holds $B, or a template lacks its sequences.</exception>
    public TemplatePostProcessor(IReadOnlyList<Piece> single, IReadOnlyList<Piece> pair, IReadOnlyDictionary<string, SpecialToken> specialTokens)
    {
        foreach (var special in specialTokens.Values)
            if (special.Ids.Length != special.Tokens.Length)
                throw new TokenizerException($"post_processor special token '{special.Id}' has {special.Ids.Length} ids but {special.Tokens.Length} tokens");
        foreach (var piece in single.Concat(pair))
            if (piece is SpecialTokenPiece s && !specialTokens.ContainsKey(s.Id))
                throw new TokenizerException($"post_processor template uses the special token '{s.Id}', which its special_tokens do not define");
        if (single.Any(p => p is SequencePiece { IsPair: true }))
            throw new TokenizerException("post_processor single template uses $B");
        if (!single.Any(p => p is SequencePiece))
            throw new TokenizerException("post_processor single template has no $A");
        if (!pair.Any(p => p is SequencePiece { IsPair: false }) || !pair.Any(p => p is SequencePiece { IsPair: true }))
            throw new TokenizerException("post_processor pair template needs both $A and $B");
        Single = single;
        Pair = pair;
        SpecialTokens = specialTokens;
        _addedSingle = single.OfType<SpecialTokenPiece>().Sum(p => specialTokens[p.Id].Ids.Length);
        _addedPair = pair.OfType<SpecialTokenPiece>().Sum(p => specialTokens[p.Id].Ids.Length);
    }

    readonly int _addedSingle, _addedPair;

    /// <summary>The BERT layout: <c>cls A sep</c> and <c>cls A sep B sep</c>, type ids 0 then 1 (HF <c>BertProcessing</c>).</summary>
    public static TemplatePostProcessor Bert(string cls, int clsId, string sep, int sepId) => new(
        [new SpecialTokenPiece(cls, 0), new SequencePiece(false, 0), new SpecialTokenPiece(sep, 0)],
        [new SpecialTokenPiece(cls, 0), new SequencePiece(false, 0), new SpecialTokenPiece(sep, 0), new SequencePiece(true, 1), new SpecialTokenPiece(sep, 1)],
        new Dictionary<string, SpecialToken>
        {
            [cls] = new(cls, [clsId], [cls]),
            [sep] = new(sep, [sepId], [sep]),
        });

    /// <summary>
    /// Parses HF's string form of a template: pieces separated by spaces, each <c>$A</c>, <c>$B</c> (or <c>$</c>,
    /// meaning $A) or a special token id, optionally followed by <c>:type_id</c> (default 0).
    /// </summary>
    /// <exception cref="TokenizerException">A type id is not a number.</exception>
    public static IReadOnlyList<Piece> ParseTemplate(string template)
    {
        var pieces = new List<Piece>();
        foreach (var item in template.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            string name = item;
            int typeId = 0;
            int colon = item.LastIndexOf(':');
            if (colon > 0 && item[(colon + 1)..].All(char.IsAsciiDigit) && colon + 1 < item.Length)
            {
                name = item[..colon];
                typeId = int.Parse(item[(colon + 1)..], System.Globalization.CultureInfo.InvariantCulture);
            }
            pieces.Add(name switch
            {
                "$" or "$A" or "$a" => new SequencePiece(false, typeId),
                "$B" or "$b" => new SequencePiece(true, typeId),
                _ when name.StartsWith('$') => throw new TokenizerException($"post_processor template piece '{item}' is not $A or $B"),
                _ => new SpecialTokenPiece(name, typeId),
            });
        }
        return pieces;
    }

    /// <summary>Number of special tokens the template inserts around one sequence or a pair.</summary>
    public int AddedTokens(bool isPair) => isPair ? _addedPair : _addedSingle;

    /// <summary>Lays out sequence A (and B, when not null) with the template's special tokens.</summary>
    public Encoding Apply(IReadOnlyList<Token> a, IReadOnlyList<Token>? b)
    {
        var template = b is null ? Single : Pair;
        int n = AddedTokens(b is not null);
        for (int k = 0; k < template.Count; k++)
            if (template[k] is SequencePiece s) n += (s.IsPair ? b! : a).Count;
        var builder = new EncodingBuilder(n);
        for (int k = 0; k < template.Count; k++)
        {
            var piece = template[k];
            if (piece is SequencePiece s)
                builder.AddSequence(s.IsPair ? b! : a, s.TypeId, s.IsPair ? 1 : 0);
            else if (piece is SpecialTokenPiece p)
            {
                var special = SpecialTokens[p.Id];
                for (int i = 0; i < special.Ids.Length; i++) builder.AddSpecial(special.Ids[i], special.Tokens[i], p.TypeId);
            }
        }
        return builder.Build();
    }

    /// <summary>Lays out the sequences with no special tokens (no post-processor): type ids 0 for A, 1 for B.</summary>
    public static Encoding Plain(IReadOnlyList<Token> a, IReadOnlyList<Token>? b)
    {
        var builder = new EncodingBuilder(a.Count + (b?.Count ?? 0));
        builder.AddSequence(a, 0, 0);
        if (b is not null) builder.AddSequence(b, 1, 1);
        return builder.Build();
    }

    /// <summary>Fills the parallel arrays of an <see cref="Encoding"/>.</summary>
    struct EncodingBuilder(int n)
    {
        readonly int[] _ids = new int[n], _typeIds = new int[n], _special = new int[n];
        readonly string[] _tokens = new string[n];
        readonly (int, int)[] _offsets = new (int, int)[n];
        readonly int?[] _sequenceIds = new int?[n];
        int _count;

        public void AddSequence(IReadOnlyList<Token> tokens, int typeId, int sequenceId)
        {
            ReadOnlySpan<Token> span = tokens is List<Token> list ? System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list) : tokens.ToArray();
            foreach (ref readonly var token in span)
            {
                _ids[_count] = token.Id;
                _tokens[_count] = token.Value;
                _typeIds[_count] = typeId;
                _offsets[_count] = (token.Start, token.End);
                _sequenceIds[_count] = sequenceId;
                _count++;
            }
        }

        public void AddSpecial(int id, string token, int typeId)
        {
            _ids[_count] = id;
            _tokens[_count] = token;
            _typeIds[_count] = typeId;
            _special[_count] = 1;
            _count++;
        }

        public readonly Encoding Build() => new(_ids, _tokens, _typeIds, _offsets, _sequenceIds, _special);
    }
}
