using MixLens.Engine.Tokenization;

namespace MixLens.Engine.Heads;

/// <summary>HF's <c>aggregation_strategy</c> of the token-classification pipeline.</summary>
public enum AggregationStrategy
{
    /// <summary>No grouping: one result per token.</summary>
    None,
    /// <summary>Adjacent tokens with the same entity (B-/I- merged) grouped; each token keeps its own label.</summary>
    Simple,
    /// <summary>Words first: a word takes the label of its first token.</summary>
    First,
    /// <summary>Words first: a word takes the argmax of its tokens' mean scores.</summary>
    Average,
    /// <summary>Words first: a word takes the label of its token with the highest score.</summary>
    Max,
}

/// <summary>One grouped entity, as HF's pipeline returns it: the entity type (the label without its B-/I- prefix),
/// the mean score of its parts, its text (the tokenizer's decoding of its tokens) and its character span [start, end)
/// in the text (UTF-16 offsets, like every span MixLens prints).</summary>
public sealed record EntityGroup(string Entity, double Score, string Word, int Start, int End);

/// <summary>
/// Groups a token classifier's per-token labels into words and entities exactly as HF's
/// <c>TokenClassificationPipeline.postprocess</c> does (transformers <c>pipelines/token_classification.py</c>:
/// <c>gather_pre_entities</c>, <c>aggregate</c>, <c>aggregate_words</c>, <c>aggregate_word</c>,
/// <c>group_entities</c>, <c>group_sub_entities</c>, <c>get_tag</c>), for one text:
/// <list type="number">
/// <item>scores: softmax over the labels of every token's logits; special tokens are left out;</item>
/// <item>a token is a sub-word (continues the previous token's word) when — for a tokenizer whose model has a
/// continuing-subword prefix (WordPiece <c>##</c>) — its token string and its text span differ in length, else
/// (byte-level BPE, Unigram) when it does not start the text and neither the char before its span nor its first char is
/// a space; the unknown token is never a sub-word and its word is its text span;</item>
/// <item><c>simple</c>: each token is an entity with its argmax label and that label's score; <c>first</c>,
/// <c>average</c>, <c>max</c>: tokens are first grouped into words (a token starts a word unless it is a sub-word) and
/// each word is labelled by its first token's argmax, by the argmax of its tokens' mean score vector, or by the argmax
/// of its token with the highest single score (the first such token);</item>
/// <item>adjacent entities are grouped while their type (the label after <c>B-</c>/<c>I-</c>, or the whole label)
/// stays the same and the next one is not a <c>B-</c>; a group's entity is the text after the last '-' of its first
/// label, its score the mean of its members' scores, its word the decoding of their words, its span from the first's
/// start to the last's end;</item>
/// <item>groups whose entity is <c>O</c> are dropped (the pipeline's default <c>ignore_labels</c>).</item>
/// </list>
/// Scores are computed in float64 (HF: float32 numpy).
/// </summary>
public static class EntityAggregation
{
    /// <summary>The pipeline's default <c>ignore_labels</c>.</summary>
    public static IReadOnlyList<string> IgnoredLabels { get; } = ["O"];

    /// <summary>One non-special token before grouping (HF's "pre-entity").</summary>
    sealed record Piece(string Word, double[] Scores, int Start, int End, bool IsSubword);

    /// <summary>One labelled token or word before entity grouping.</summary>
    sealed record Labelled(string Label, double Score, string Word, int Start, int End);

    /// <summary>Groups the tokens of one text (an encoding without a pair) into entities.</summary>
    /// <param name="encoding">the text's encoding (n tokens, special tokens included).</param>
    /// <param name="logits">the token classifier's logits [n, labels].</param>
    /// <param name="labels">the label names (id2label).</param>
    /// <param name="text">the text the encoding's offsets index.</param>
    /// <param name="tokenizer">the tokenizer (its sub-word prefix, unknown token and decoder).</param>
    /// <param name="strategy">simple, first, average or max.</param>
    /// <returns>the entities in text order, <see cref="IgnoredLabels"/> left out.</returns>
    /// <exception cref="ArgumentException"><paramref name="strategy"/> is None, the encoding holds a pair, or the
    /// logits' shape disagrees with the encoding or the labels.</exception>
    public static EntityGroup[] Aggregate(Encoding encoding, Tensor logits, IReadOnlyList<string> labels, string text,
        ITokenizer tokenizer, AggregationStrategy strategy)
    {
        if (strategy == AggregationStrategy.None) throw new ArgumentException("strategy None groups nothing: use the per-token labels", nameof(strategy));
        if (encoding.SequenceIds.Any(s => s == 1)) throw new ArgumentException("aggregation groups the words of one text, not a pair", nameof(encoding));
        if (logits.Shape.Length != 2 || logits.Shape[0] != encoding.Length || logits.Shape[1] != labels.Count)
            throw new ArgumentException($"logits [{string.Join(", ", logits.Shape)}] do not match {encoding.Length} tokens and {labels.Count} labels", nameof(logits));

        var pieces = Pieces(encoding, logits, text, tokenizer);
        var labelled = strategy == AggregationStrategy.Simple
            ? pieces.Select(p => { int k = ArgMax(p.Scores); return new Labelled(labels[k], p.Scores[k], p.Word, p.Start, p.End); }).ToList()
            : Words(pieces, labels, tokenizer, strategy);
        return GroupEntities(labelled, tokenizer).Where(g => !IgnoredLabels.Contains(g.Entity)).ToArray();
    }

    /// <summary>HF <c>gather_pre_entities</c>: softmax scores, span and sub-word flag of every non-special token.</summary>
    static List<Piece> Pieces(Encoding encoding, Tensor logits, string text, ITokenizer tokenizer)
    {
        bool prefixed = TokenStrings.HasContinuingSubwordPrefix(tokenizer);
        int? unk = TokenStrings.UnkId(tokenizer);
        var pieces = new List<Piece>();
        for (int t = 0; t < encoding.Length; t++)
        {
            if (encoding.SpecialTokensMask[t] != 0) continue;
            var (start, end) = encoding.Offsets[t];
            string word = encoding.Tokens[t], wordRef = text[start..end];
            bool isSubword = prefixed
                ? CodePoints(word) != CodePoints(wordRef)
                // " " not in sentence[start - 1 : start + 1]
                : start > 0 && text[start - 1] != ' ' && (start >= text.Length || text[start] != ' ');
            if (encoding.Ids[t] == unk)
            {
                word = wordRef;
                isSubword = false;
            }
            pieces.Add(new Piece(word, Softmax(logits.Row(t)), start, end, isSubword));
        }
        return pieces;
    }

    /// <summary>HF <c>aggregate_words</c> / <c>aggregate_word</c>: tokens into words, each word one label.</summary>
    static List<Labelled> Words(List<Piece> pieces, IReadOnlyList<string> labels, ITokenizer tokenizer, AggregationStrategy strategy)
    {
        var words = new List<List<Piece>>();
        foreach (var piece in pieces)
        {
            if (words.Count == 0 || !piece.IsSubword) words.Add([piece]);
            else words[^1].Add(piece);
        }
        return words.Select(word =>
        {
            double[] scores = strategy switch
            {
                AggregationStrategy.First => word[0].Scores,
                // max(entities, key=lambda e: e["scores"].max()): the first token with the highest single score
                AggregationStrategy.Max => word.Aggregate((best, p) => p.Scores.Max() > best.Scores.Max() ? p : best).Scores,
                AggregationStrategy.Average => Enumerable.Range(0, labels.Count).Select(k => word.Average(p => p.Scores[k])).ToArray(),
                _ => throw new ArgumentOutOfRangeException(nameof(strategy), strategy, "not a word strategy"),
            };
            int label = ArgMax(scores);
            return new Labelled(labels[label], scores[label], TokenStrings.Join(tokenizer, word.Select(p => p.Word).ToArray()),
                word[0].Start, word[^1].End);
        }).ToList();
    }

    /// <summary>HF <c>get_tag</c>: ("B", type) for B-type, ("I", type) for I-type, else ("I", the whole label).</summary>
    static (char Bi, string Tag) GetTag(string label) =>
        label.StartsWith("B-", StringComparison.Ordinal) ? ('B', label[2..])
        : label.StartsWith("I-", StringComparison.Ordinal) ? ('I', label[2..])
        : ('I', label);

    /// <summary>HF <c>group_entities</c> / <c>group_sub_entities</c>.</summary>
    static List<EntityGroup> GroupEntities(List<Labelled> entities, ITokenizer tokenizer)
    {
        var groups = new List<EntityGroup>();
        var current = new List<Labelled>();
        void Close()
        {
            groups.Add(new EntityGroup(current[0].Label.Split('-')[^1], current.Average(e => e.Score),
                TokenStrings.Join(tokenizer, current.Select(e => e.Word).ToArray()), current[0].Start, current[^1].End));
        }
        foreach (var entity in entities)
        {
            if (current.Count > 0)
            {
                var (bi, tag) = GetTag(entity.Label);
                if (tag == GetTag(current[^1].Label).Tag && bi != 'B')
                {
                    current.Add(entity);
                    continue;
                }
                Close();
                current = [];
            }
            current.Add(entity);
        }
        if (current.Count > 0) Close();
        return groups;
    }

    static int CodePoints(string s)
    {
        int n = 0;
        for (int i = 0; i < s.Length; i++, n++) if (char.IsHighSurrogate(s[i]) && i + 1 < s.Length && char.IsLowSurrogate(s[i + 1])) i++;
        return n;
    }

    static double[] Softmax(ReadOnlySpan<float> logits)
    {
        double max = double.NegativeInfinity;
        foreach (var z in logits) max = Math.Max(max, z);
        var e = new double[logits.Length];
        double sum = 0;
        for (int k = 0; k < e.Length; k++) sum += e[k] = Math.Exp(logits[k] - max);
        for (int k = 0; k < e.Length; k++) e[k] /= sum;
        return e;
    }

    /// <summary>numpy argmax: the first maximal index.</summary>
    static int ArgMax(double[] v)
    {
        int best = 0;
        for (int k = 1; k < v.Length; k++) if (v[k] > v[best]) best = k;
        return best;
    }
}
