using MixLens.Engine.Model;

namespace MixLens.Analysis.Evaluation;

/// <summary>
/// ERASER's comprehensiveness and sufficiency (DeYoung, Jain, Rajani, Lehman, Xiong, Socher &amp; Wallace, ACL 2020,
/// "ERASER: A Benchmark to Evaluate Rationalized NLP Models", arXiv:1911.03429, §4 "Comprehensiveness",
/// "Sufficiency", aggregated over bins), as ferret reports them (Attanasio, Pastor, Di Bonaventura &amp; Nozza, EACL 2023
/// demo, arXiv:2208.01575: <c>aopc_compr</c>, <c>aopc_suff</c>). For a sentence x with m candidate (non-special)
/// tokens, ranked by a method's scores (<see cref="Aopc.Ranking"/>), r_k its top k tokens, and p the score of the
/// prediction made on x (<see cref="PredictionScore"/>):
/// <code>
/// comprehensiveness_k = p(x) − p(x \ r_k)      the top k deleted: did the model need them?   (higher = more faithful)
/// sufficiency_k       = p(x) − p(r_k)          only the top k kept: are they enough?         (lower = more faithful)
/// k ∈ K = { ⌊q·m⌋ : q = 0.1, 0.2, …, 1.0 } \ {0}
/// comprehensiveness = mean over k ∈ K of comprehensiveness_k;   sufficiency likewise
/// </code>
/// K is a set: two bins with the same k (m &lt; 10) count once, as in ferret, which leaves out a rationale equal to the
/// previous bin's. Special tokens ([CLS], [SEP], …: the tokenizer's special-tokens mask) are always kept; tokens are
/// deleted from input_ids and token_type_ids alike, order kept, and the encoder assigns positions to what remains.
/// All variants of a sentence (every method, every k, both metrics) run as one batched forward pass, each distinct
/// token sequence once.
/// <para><b>Deviations</b>: ferret decodes each variant to text and tokenizes it again; here the ids are deleted
/// directly (no re-tokenization, so a deleted word piece cannot merge its neighbours). Ties in the ranking go to the
/// earlier position (<see cref="Aopc.Ranking"/>; ferret's argsort order is unspecified on ties). Unlike
/// <see cref="Aopc"/> (tokens replaced by [MASK], ⌈k·m⌉, 10…50 %), tokens are deleted and k is rounded down.</para>
/// </summary>
public static class Eraser
{
    /// <summary>The bins q = 1/10, 2/10, …, 10/10 (<see cref="Count"/> takes q·10).</summary>
    public const int Bins = 10;

    /// <summary>k = ⌊q·m⌋ for q = <paramref name="q10"/>/10, in integers (so 3/10 · 10 is exactly 3).</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="q10"/> outside 0…10 or <paramref name="m"/> negative.</exception>
    public static int Count(int q10, int m)
    {
        if (q10 is < 0 or > Bins) throw new ArgumentOutOfRangeException(nameof(q10), q10, $"a bin is 0…{Bins} tenths");
        if (m < 0) throw new ArgumentOutOfRangeException(nameof(m), m, "a token count is not negative");
        return q10 * m / Bins;
    }

    /// <summary>K: the distinct k = ⌊q·m⌋ &gt; 0 of the bins q = 0.1 … 1.0, ascending (empty for m = 0; always ends
    /// with m).</summary>
    public static int[] Counts(int m) =>
        Enumerable.Range(1, Bins).Select(q10 => Count(q10, m)).Where(k => k > 0).Distinct().ToArray();

    /// <summary><paramref name="input"/> with the tokens at <paramref name="deleted"/> removed from input_ids,
    /// token_type_ids (and the attention mask, if any); the others keep their order.</summary>
    /// <exception cref="ArgumentOutOfRangeException">a position outside the input.</exception>
    public static EncoderInput Delete(EncoderInput input, IEnumerable<int> deleted)
    {
        int n = input.Length;
        var gone = new bool[n];
        foreach (int j in deleted)
        {
            if ((uint)j >= (uint)n) throw new ArgumentOutOfRangeException(nameof(deleted), j, $"position outside 0…{n - 1}");
            gone[j] = true;
        }
        var kept = Enumerable.Range(0, n).Where(j => !gone[j]).ToArray();
        return new EncoderInput(
            kept.Select(j => input.InputIds[j]).ToArray(),
            kept.Select(j => input.TokenTypeIds[j]).ToArray(),
            input.AttentionMask is null ? null : kept.Select(j => input.AttentionMask[j]).ToArray());
    }

    /// <summary>x \ r_k, comprehensiveness' variant: the first <paramref name="k"/> positions of
    /// <paramref name="ranking"/> deleted, everything else (special tokens included) kept.</summary>
    public static EncoderInput WithoutTop(EncoderInput input, IReadOnlyList<int> ranking, int k) =>
        Delete(input, ranking.Take(CheckK(k, ranking.Count)));

    /// <summary>r_k, sufficiency's variant: the special tokens and the first <paramref name="k"/> positions of
    /// <paramref name="ranking"/> kept (in their original order), the other ranked positions deleted.</summary>
    /// <param name="ranking">every candidate (non-special) position, best first.</param>
    public static EncoderInput OnlyTop(EncoderInput input, IReadOnlyList<int> ranking, int k) =>
        Delete(input, ranking.Skip(CheckK(k, ranking.Count)));

    static int CheckK(int k, int m) =>
        (uint)k <= (uint)m ? k : throw new ArgumentOutOfRangeException(nameof(k), k, $"k must be in 0…{m}");

    /// <summary>One ranking's results on one sentence.</summary>
    /// <param name="Comprehensiveness">mean over <paramref name="Counts"/> of p − p(x \ r_k).</param>
    /// <param name="Sufficiency">mean over <paramref name="Counts"/> of p − p(r_k).</param>
    /// <param name="Counts">K, the k of the bins (<see cref="Eraser.Counts"/>).</param>
    /// <param name="ComprehensivenessDrops">p − p(x \ r_k) for each k of <paramref name="Counts"/>.</param>
    /// <param name="SufficiencyDrops">p − p(r_k) for each k of <paramref name="Counts"/>.</param>
    public sealed record Result(double Comprehensiveness, double Sufficiency, int[] Counts,
        double[] ComprehensivenessDrops, double[] SufficiencyDrops);

    /// <summary>Comprehensiveness and sufficiency of one method's scores (one batch through <paramref name="score"/>).</summary>
    /// <param name="input">the original input (ids and token types).</param>
    /// <param name="positions">the m candidate positions (the non-special tokens); all others are always kept.</param>
    /// <param name="scores">the method's score for each candidate (same order as <paramref name="positions"/>).</param>
    /// <param name="p">the prediction's score on the original input (<see cref="PredictionScore"/>).</param>
    /// <param name="score">the same prediction's score for a batch of inputs of any lengths.</param>
    public static Result Compute(EncoderInput input, IReadOnlyList<int> positions, IReadOnlyList<double> scores,
        double p, InputScore score) => Compute(input, positions, [scores], p, score)[0];

    /// <summary>
    /// <see cref="Compute(EncoderInput, IReadOnlyList{int}, IReadOnlyList{double}, double, InputScore)"/> for several
    /// methods' scores on the same sentence: every variant of every method goes to <paramref name="score"/> in one
    /// batch, each distinct token sequence once (methods that agree on a top k share its variants); no call when
    /// <paramref name="scores"/> is empty.
    /// </summary>
    /// <exception cref="ArgumentException">no candidate positions, or a score vector of another length.</exception>
    public static Result[] Compute(EncoderInput input, IReadOnlyList<int> positions, IReadOnlyList<IReadOnlyList<double>> scores,
        double p, InputScore score)
    {
        if (positions.Count == 0) throw new ArgumentException("no candidate positions", nameof(positions));
        if (scores.Count == 0) return [];
        var counts = Counts(positions.Count);

        // Variants in first-seen order; [method][k index] → index into the batch.
        var batch = new List<EncoderInput>();
        var index = new Dictionary<EncoderInput, int>(SameTokens.Instance);
        int Slot(EncoderInput variant)
        {
            if (!index.TryGetValue(variant, out int slot))
            {
                slot = batch.Count;
                index.Add(variant, slot);
                batch.Add(variant);
            }
            return slot;
        }
        var without = new int[scores.Count][];
        var only = new int[scores.Count][];
        for (int s = 0; s < scores.Count; s++)
        {
            var ranking = Aopc.Ranking(positions, scores[s]);
            without[s] = counts.Select(k => Slot(WithoutTop(input, ranking, k))).ToArray();
            only[s] = counts.Select(k => Slot(OnlyTop(input, ranking, k))).ToArray();
        }

        var pk = score(batch);
        if (pk.Length != batch.Count) throw new InvalidOperationException($"the score function returned {pk.Length} values for {batch.Count} inputs");
        return Enumerable.Range(0, scores.Count).Select(s =>
        {
            var comprehensiveness = without[s].Select(slot => p - pk[slot]).ToArray();
            var sufficiency = only[s].Select(slot => p - pk[slot]).ToArray();
            return new Result(comprehensiveness.Average(), sufficiency.Average(), counts, comprehensiveness, sufficiency);
        }).ToArray();
    }
}
