using MixLens.Analysis;
using MixLens.Analysis.Evaluation;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Heads;

namespace MixLens.Tests.Evaluation;

/// <summary>
/// ERASER comprehensiveness and sufficiency: the k schedule, the deleted and kept sequences, hand-computed values on a
/// fake additive "model", and on a synthetic RoBERTa classifier against variants built here and scored by the head's
/// equation in float64.
/// </summary>
public class EraserTests
{
    // ---- the k schedule -------------------------------------------------------------------------------------------

    [Theory]
    [InlineData(3, 10, 3)] // 0.3·10 is 3.0000000000000004 in floating point; 3 exactly here
    [InlineData(7, 10, 7)]
    [InlineData(1, 9, 0)]
    [InlineData(5, 5, 2)]
    [InlineData(10, 7, 7)]
    [InlineData(6, 12, 7)] // 7.2
    [InlineData(0, 12, 0)]
    public void Count_Bin_IsFloorOfQTimesM(int q10, int m, int expected) => Assert.Equal(expected, Eraser.Count(q10, m));

    [Fact]
    public void Count_AllBinsUpTo1000Tokens_MatchesExactDecimalFloor()
    {
        for (int m = 0; m <= 1000; m++)
            for (int q10 = 1; q10 <= 10; q10++)
                Assert.Equal((int)decimal.Floor(q10 / 10m * m), Eraser.Count(q10, m));
    }

    [Theory]
    [InlineData(1, new[] { 1 })]                      // bins 0.1…0.9 give k = 0: skipped
    [InlineData(3, new[] { 1, 2, 3 })]                // 0,0,0,1,1,1,2,2,2,3: each k once
    [InlineData(5, new[] { 1, 2, 3, 4, 5 })]          // 0,1,1,2,2,3,3,4,4,5
    [InlineData(10, new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 })]
    [InlineData(12, new[] { 1, 2, 3, 4, 6, 7, 8, 9, 10, 12 })] // 1.2, 2.4, 3.6, 4.8, 6, 7.2, 8.4, 9.6, 10.8, 12
    public void Counts_TokenCount_DistinctPositiveKAscending(int m, int[] expected) => Assert.Equal(expected, Eraser.Counts(m));

    [Fact]
    public void Counts_NoTokens_IsEmpty() => Assert.Empty(Eraser.Counts(0));

    [Fact]
    public void Count_BinOutOfRange_Throws() => Assert.Throws<ArgumentOutOfRangeException>(() => Eraser.Count(11, 5));

    // ---- the deleted and kept sequences ---------------------------------------------------------------------------

    // A pair: [CLS] a b [SEP] c d [SEP], segment B typed 1; candidates 1, 2, 4, 5.
    static readonly EncoderInput Pair = new([101, 10, 11, 102, 12, 13, 102], [0, 0, 0, 0, 1, 1, 1]);
    static readonly int[] PairRanking = [4, 1, 5, 2];

    [Fact]
    public void WithoutTop_TopTwo_DeletesThemFromIdsAndTypesKeepingSpecialsAndOrder()
    {
        var v = Eraser.WithoutTop(Pair, PairRanking, 2);
        Assert.Equal([101, 11, 102, 13, 102], v.InputIds);
        Assert.Equal([0, 0, 0, 1, 1], v.TokenTypeIds);
        Assert.Null(v.AttentionMask);
    }

    [Fact]
    public void OnlyTop_TopTwo_KeepsThemAndTheSpecialsInOriginalOrder()
    {
        var v = Eraser.OnlyTop(Pair, PairRanking, 2); // ranked 4 before 1: the original order comes back
        Assert.Equal([101, 10, 102, 12, 102], v.InputIds);
        Assert.Equal([0, 0, 0, 1, 1], v.TokenTypeIds);
    }

    [Fact]
    public void WithoutAndOnlyTop_Extremes_AreTheOriginalOrTheSpecialsAlone()
    {
        int[] specials = [101, 102, 102];
        Assert.Equal(Pair.InputIds, Eraser.WithoutTop(Pair, PairRanking, 0).InputIds);
        Assert.Equal(specials, Eraser.WithoutTop(Pair, PairRanking, 4).InputIds);
        Assert.Equal(Pair.InputIds, Eraser.OnlyTop(Pair, PairRanking, 4).InputIds);
        Assert.Equal(specials, Eraser.OnlyTop(Pair, PairRanking, 0).InputIds);
        Assert.Equal([0, 0, 1], Eraser.OnlyTop(Pair, PairRanking, 0).TokenTypeIds);
    }

    [Fact]
    public void Delete_AttentionMask_IsFilteredAlike()
    {
        var masked = Pair with { AttentionMask = [1, 1, 1, 1, 1, 0, 1] };
        Assert.Equal([1, 1, 0, 1], Eraser.Delete(masked, [1, 2, 4]).AttentionMask!);
    }

    [Fact]
    public void WithoutTop_KBeyondRanking_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Eraser.WithoutTop(Pair, PairRanking, 5));

    [Fact]
    public void Delete_PositionOutside_Throws() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => Eraser.Delete(Pair, [7]));

    // ---- a fake additive model: p(x) = 0.1 + Σ weight(id) over the ids present ------------------------------------

    static readonly EncoderInput Sentence = new([101, 10, 11, 12, 13, 14, 102], [0, 0, 0, 0, 0, 0, 0]);
    static readonly int[] Positions = [1, 2, 3, 4, 5];
    static readonly Dictionary<int, double> Weight = new() { [10] = 0.3, [11] = 0.2, [12] = 0.1, [13] = 0.05, [14] = 0.0 };
    const double P = 0.75; // 0.1 + 0.65

    static double[] Fake(IReadOnlyList<EncoderInput> batch) =>
        batch.Select(x => 0.1 + x.InputIds.Sum(id => Weight.GetValueOrDefault(id))).ToArray();

    [Fact]
    public void Compute_FaithfulRanking_MatchesHandComputedValues()
    {
        // top k = 1…5 in order 10, 11, 12, 13, 14:
        // deleted: drops .3, .5, .6, .65, .65 → 2.7/5 = .54; only kept: drops .35, .15, .05, 0, 0 → .55/5 = .11
        int calls = 0;
        var r = Eraser.Compute(Sentence, Positions, [5, 4, 3, 2, 1], P, b => { calls++; return Fake(b); });
        Assert.Equal(1, calls);
        Assert.Equal([1, 2, 3, 4, 5], r.Counts);
        Assert.Equal([0.3, 0.5, 0.6, 0.65, 0.65], r.ComprehensivenessDrops.Select(d => Math.Round(d, 12)));
        Assert.Equal([0.35, 0.15, 0.05, 0.0, 0.0], r.SufficiencyDrops.Select(d => Math.Round(d, 12)));
        Assert.Equal(0.54, r.Comprehensiveness, 12);
        Assert.Equal(0.11, r.Sufficiency, 12);
    }

    [Fact]
    public void Compute_ReversedRanking_LowerComprehensivenessHigherSufficiency()
    {
        // order 14, 13, 12, 11, 10: deleted .0, .05, .15, .35, .65 → .24; kept .65, .6, .5, .3, 0 → .41
        var r = Eraser.Compute(Sentence, Positions, [1, 2, 3, 4, 5], P, Fake);
        Assert.Equal(0.24, r.Comprehensiveness, 12);
        Assert.Equal(0.41, r.Sufficiency, 12);
    }

    [Fact]
    public void Compute_SeveralMethods_OneBatchEachDistinctSequenceOnce()
    {
        var sizes = new List<int>();
        IReadOnlyList<double>[] scores = [[5, 4, 3, 2, 1], [1, 2, 3, 4, 5], [4, 5, 3, 2, 1], [50, 40, 30, 20, 10]];
        var r = Eraser.Compute(Sentence, Positions, scores, P, b =>
        {
            sizes.Add(b.Count);
            Assert.Equal(b.Count, b.Select(x => string.Join(",", x.InputIds)).Distinct().Count());
            return Fake(b);
        });
        // The first ranking keeps {2,3,4,5}, {3,4,5}, {4,5}, {5}, {} (deleted) and {1}, {1,2}, {1,2,3}, {1,2,3,4},
        // {1,…,5} (only the top): 10 variants. The reversed ranking's are the same ten sets (the complement of its top k
        // is the first ranking's top m − k); the third (positions 2 and 1 swapped) adds {1,3,4,5} and {2}; the fourth
        // ranks as the first.
        Assert.Equal([12], sizes);
        Assert.Equal(0.54, r[0].Comprehensiveness, 12);
        Assert.Equal(0.24, r[1].Comprehensiveness, 12);
        Assert.Equal(0.41, r[1].Sufficiency, 12);
        // swapped: deleted .2, .5, .6, .65, .65 → .52; only kept .45, .15, .05, 0, 0 → .13
        Assert.Equal(0.52, r[2].Comprehensiveness, 12);
        Assert.Equal(0.13, r[2].Sufficiency, 12);
        Assert.Equal(r[0].ComprehensivenessDrops, r[3].ComprehensivenessDrops);
        Assert.Equal(r[0].SufficiencyDrops, r[3].SufficiencyDrops);
    }

    [Fact]
    public void Compute_ThreeTokens_EachDistinctKCountsOnce()
    {
        // m = 3: bins give k = 1, 1, 1, 2, 2, 2, 3 → K = {1, 2, 3}; weights of ids 10, 11, 12: .3, .2, .1
        var input = new EncoderInput([101, 10, 11, 12, 102], [0, 0, 0, 0, 0]);
        double p = 0.1 + 0.6;
        var r = Eraser.Compute(input, [1, 2, 3], [3, 2, 1], p, Fake);
        Assert.Equal([1, 2, 3], r.Counts);
        Assert.Equal((0.3 + 0.5 + 0.6) / 3, r.Comprehensiveness, 12);
        Assert.Equal((0.3 + 0.1 + 0.0) / 3, r.Sufficiency, 12);
    }

    [Fact]
    public void Compute_NoMethods_NoCall() =>
        Assert.Empty(Eraser.Compute(Sentence, Positions, Array.Empty<IReadOnlyList<double>>(), P, _ => throw new InvalidOperationException("called")));

    [Fact]
    public void EraserSentence_SkippedMethod_IsNull()
    {
        var scores = new Dictionary<MixingMethod, double[]?> { [MixingMethod.Attention] = [5, 4, 3, 2, 1], [MixingMethod.Flow] = null };
        var (comprehensiveness, sufficiency) = FaithfulnessEvaluation.EraserSentence(Sentence, Positions, P, Fake, scores);
        Assert.Equal(0.54, comprehensiveness[MixingMethod.Attention]!.Value, 12);
        Assert.Equal(0.11, sufficiency[MixingMethod.Attention]!.Value, 12);
        Assert.Null(comprehensiveness[MixingMethod.Flow]);
        Assert.Null(sufficiency[MixingMethod.Flow]);
    }

    // ---- a synthetic RoBERTa classifier (roberta-random's encoder + a seeded head) --------------------------------

    const double Tolerance = 1e-5;

    /// <summary>softmax(tanh(h_0 W_1ᵀ + b_1) W_2ᵀ + b_2) in float64 on the engine's last hidden state of one text.</summary>
    static double[] Probabilities(SyntheticCheckpoint checkpoint, EncoderModel model, int[] ids, int[] typeIds)
    {
        var h0 = model.Encoder.Forward(new EncoderInput(ids, typeIds)).LastHiddenState.Row(0);
        var pooled = ReferenceMath.Linear(checkpoint["classifier.dense.weight"], checkpoint["classifier.dense.bias"], ReferenceMath.ToDouble(h0))
            .Select(Math.Tanh).ToArray();
        var z = ReferenceMath.Linear(checkpoint["classifier.out_proj.weight"], checkpoint["classifier.out_proj.bias"], pooled);
        double max = z.Max();
        var e = z.Select(x => Math.Exp(x - max)).ToArray();
        return e.Select(x => x / e.Sum()).ToArray();
    }

    /// <summary>Expected comprehensiveness and sufficiency, built here: the candidates sorted by descending score
    /// (no ties in the inputs used), the distinct k = ⌊q·m⌋ &gt; 0 by decimal arithmetic, each variant one text.</summary>
    static (double Comprehensiveness, double Sufficiency) Expected(SyntheticCheckpoint checkpoint, EncoderModel model,
        int[] ids, int[] typeIds, int[] positions, double[] scores, int predicted)
    {
        double p = Probabilities(checkpoint, model, ids, typeIds)[predicted];
        var byScore = positions.Zip(scores).OrderByDescending(t => t.Second).Select(t => t.First).ToArray();
        int m = positions.Length;
        var ks = Enumerable.Range(1, 10).Select(q => (int)decimal.Floor(q / 10m * m)).Where(k => k > 0).Distinct().ToArray();
        double Drop(Func<int, bool> keep)
        {
            var kept = Enumerable.Range(0, ids.Length).Where(keep).ToArray();
            return p - Probabilities(checkpoint, model, kept.Select(j => ids[j]).ToArray(), kept.Select(j => typeIds[j]).ToArray())[predicted];
        }
        double comprehensiveness = ks.Average(k => Drop(j => !byScore.Take(k).Contains(j)));
        double sufficiency = ks.Average(k => Drop(j => !positions.Contains(j) || byScore.Take(k).Contains(j)));
        return (comprehensiveness, sufficiency);
    }

    [Fact]
    public void Compute_SyntheticClassifier_MatchesVariantsScoredOneByOne()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(2, seed: 61);
        using var model = EncoderModel.Load(checkpoint.Write("roberta."));
        var encoding = model.Tokenize("The movie was long but good, and the ending was a surprise.");
        var positions = Enumerable.Range(0, encoding.Length).Where(j => encoding.SpecialTokensMask[j] == 0).ToArray();
        Assert.True(positions.Length >= 10, $"{positions.Length} candidates");
        var probabilities = Probabilities(checkpoint, model, encoding.Ids, encoding.TypeIds);
        int predicted = probabilities[1] > probabilities[0] ? 1 : 0;
        double p = probabilities[predicted];
        // an arbitrary ranking without ties: (7 j mod 11) + j / 100
        var scores = positions.Select(j => (7 * j % 11) + j / 100.0).ToArray();

        int calls = 0;
        var modelScore = FaithfulnessEvaluation.ModelInputScore(model, predicted);
        var actual = Eraser.Compute(EncoderInput.From(encoding), positions, scores, p, b => { calls++; return modelScore(b); });
        Assert.Equal(1, calls);
        var (comprehensiveness, sufficiency) = Expected(checkpoint, model, encoding.Ids, encoding.TypeIds, positions, scores, predicted);
        Assert.Equal(comprehensiveness, actual.Comprehensiveness, Tolerance);
        Assert.Equal(sufficiency, actual.Sufficiency, Tolerance);
        Assert.NotEqual(0.0, actual.Comprehensiveness); // the variants do move the prediction
    }

    [Fact]
    public void Run_SyntheticClassifier_PerExampleValuesMatchTheAttentionRanking()
    {
        using var checkpoint = SyntheticCheckpoint.RobertaClassifier(2, seed: 62);
        using var model = EncoderModel.Load(checkpoint.Write("roberta."));
        var sentences = new[]
        {
            new LabeledSentence("The movie was long but good.", 1, 2),
            new LabeledSentence("A dull, lifeless film.", 0, 3),
            new LabeledSentence("ok", 0, 4), // too short: no metrics
        };
        var examples = new List<ExampleEvaluation>();
        var result = FaithfulnessEvaluation.Run(model, sentences, new EvaluationOptions([MixingMethod.Attention, MixingMethod.Rollout]),
            perExample: examples.Add);
        Assert.Equal(1, result.SkippedShort);
        Assert.Empty(examples[2].Comprehensiveness);
        Assert.Empty(examples[2].Sufficiency);
        foreach (var m in result.Methods)
        {
            Assert.Equal(m.Aopc.Count, m.Comprehensiveness.Count);
            Assert.Equal(m.Aopc.Count, m.Sufficiency.Count);
            Assert.Equal(examples.Take(2).Average(e => e.Comprehensiveness[m.Method]!.Value), m.ComprehensivenessMean, 12);
            Assert.Equal(examples.Take(2).Average(e => e.Sufficiency[m.Method]!.Value), m.SufficiencyMean, 12);
        }

        int layers = model.Encoder.Config.NumHiddenLayers;
        foreach (var e in examples.Take(2))
        {
            var encoding = model.Tokenize(e.Sentence.Text, truncate: true);
            var positions = Enumerable.Range(0, encoding.Length).Where(j => encoding.SpecialTokensMask[j] == 0).ToArray();
            var attention = MixingMethods.Compute(MixingMethod.Attention, model.Encoder, EncoderInput.From(encoding));
            var scores = positions.Select(j => (double)attention[layers - 1, 0, j]).ToArray();
            Assert.Equal(scores.Length, scores.Distinct().Count()); // no ties: the ranking is unambiguous
            var (comprehensiveness, sufficiency) = Expected(checkpoint, model, encoding.Ids, encoding.TypeIds, positions, scores, e.Predicted);
            Assert.Equal(comprehensiveness, e.Comprehensiveness[MixingMethod.Attention]!.Value, Tolerance);
            Assert.Equal(sufficiency, e.Sufficiency[MixingMethod.Attention]!.Value, Tolerance);
        }
    }
}
