using MixLens.Analysis;
using MixLens.Analysis.Evaluation;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Evaluation;

/// <summary><see cref="PerturbedForwards"/> (record, run once, replay) and the evaluation's shortcuts against the plain
/// computations they replace: the metrics must come out identical.</summary>
public class PerturbedForwardsTests
{
    static readonly Lazy<EncoderModel> Sst2 = new(() => EncoderModel.Load(SharedData.Models("minilm-l6-sst2")));

    static EncoderInput Input(params int[] ids) => new(ids, new int[ids.Length]);

    [Fact]
    public void Run_RepeatedInputs_EachDistinctSequenceScoredOnceInBatchesWithinTheTokenBudget()
    {
        var calls = new List<int[]>();
        InputScore score = batch =>
        {
            calls.Add(batch.Select(x => x.Length).ToArray());
            return batch.Select(x => (double)x.InputIds.Sum()).ToArray();
        };
        var forwards = new PerturbedForwards(score, tokensPerBatch: 5);
        var first = forwards.Recording([Input(1, 2), Input(3, 4, 5), Input(1, 2)]);
        forwards.RecordingIds([0, 0])([[1, 2], [7, 7]]);
        Assert.All(first, v => Assert.True(double.IsNaN(v)));
        Assert.Equal(3, forwards.Distinct);
        Assert.Equal(5, forwards.Requested);
        Assert.Empty(calls);

        forwards.Run();
        // 2 + 3 tokens fill the first batch, [7, 7] goes in the second
        Assert.Equal([[2, 3], [2]], calls);
        Assert.Equal([3.0, 12.0, 3.0], forwards.Cached([Input(1, 2), Input(3, 4, 5), Input(1, 2)]));
        Assert.Equal([14.0, 3.0], forwards.CachedIds([0, 0])([[7, 7], [1, 2]]));
        forwards.Run();
        Assert.Equal(2, calls.Count);
    }

    [Fact]
    public void Cached_InputNeverRecorded_Throws()
    {
        var forwards = new PerturbedForwards(batch => new double[batch.Count]);
        forwards.Recording([Input(1)]);
        forwards.Run();
        var e = Assert.Throws<InvalidOperationException>(() => forwards.Cached([Input(2)]));
        Assert.Contains("not recorded", e.Message);
    }

    [Fact]
    public void Run_LongInputOverTheBudget_GoesAlone()
    {
        var calls = new List<int>();
        var forwards = new PerturbedForwards(batch => { calls.Add(batch.Count); return new double[batch.Count]; }, tokensPerBatch: 2);
        forwards.Recording([Input(1, 2, 3), Input(4)]);
        forwards.Run();
        Assert.Equal([1, 1], calls);
    }

    /// <summary>
    /// The evaluation path (every metric's copies recorded, deduplicated, run in packed batches through the first-token
    /// forward) against the plain one (one full forward per metric, and per method for AOPC) on real sentences and
    /// real method scores: blank-out, ρ, AOPC, comprehensiveness and sufficiency identical to the last bit.
    /// </summary>
    [Fact]
    public void EvaluationPath_RealSentences_MetricsIdenticalToOneFullForwardPerMetric()
    {
        var model = Sst2.Value;
        var classifier = model.Classifier!;
        int maskId = model.Tokenizer.MaskId!.Value, L = model.Config.NumHiddenLayers;
        string[] sentences =
        [
            "it 's a charming and often affecting journey . ",
            "unflinchingly bleak and desperate ",
            "the acting , costumes , music , cinematography and sound are all astounding given the production 's austere locales . ",
        ];
        MixingMethod[] methods = [MixingMethod.Attention, MixingMethod.Rollout, MixingMethod.Alti, MixingMethod.AttentionNorm, MixingMethod.GlobEncRollout];
        foreach (var text in sentences)
        {
            var encoding = model.Tokenize(text, truncate: true);
            var input = EncoderInput.From(encoding);
            var (hidden, trace) = model.Encoder.Forward(input, MixLens.Engine.Tracing.TraceRequest.All);
            var logits = classifier.Classify(hidden).Logits;
            int predicted = PredictionScore.Predicted(logits, classifier.Function);
            double p = PredictionScore.Of(logits, predicted, classifier.Function);
            var positions = Enumerable.Range(0, encoding.Length).Where(j => encoding.SpecialTokensMask[j] == 0).ToArray();
            var bases = new Dictionary<MixingMethod, Tensor>();
            var scores = methods.ToDictionary(m => m, m =>
            {
                var t = MixingMethods.ComputeSharing(m, model.Encoder, input, trace, bases);
                return (double[]?)positions.Select(j => (double)t[L - 1, 0, j]).ToArray();
            });

            // plain: the full forward, one call per metric (and per method for AOPC)
            InputScore full = batch => model.Encoder.Forward(batch).LastHiddenStates
                .Select(h => PredictionScore.Of(classifier.Classify(h).Logits, predicted, classifier.Function)).ToArray();
            ClassScore fullIds = batch => full(batch.Select(ids => new EncoderInput(ids, encoding.TypeIds)).ToArray());
            var (importances, rho, aopc) = FaithfulnessEvaluation.EvaluateSentence(encoding.Ids, positions, maskId, p, fullIds, scores);
            var (comprehensiveness, sufficiency) = FaithfulnessEvaluation.EraserSentence(input, positions, p, full, scores);

            // evaluation path
            var forwards = new PerturbedForwards(FaithfulnessEvaluation.ModelInputScore(model, predicted));
            FaithfulnessEvaluation.EvaluateSentence(encoding.Ids, positions, maskId, p, forwards.RecordingIds(encoding.TypeIds), scores);
            FaithfulnessEvaluation.EraserSentence(input, positions, p, forwards.Recording, scores);
            forwards.Run();
            var (importances2, rho2, aopc2) = FaithfulnessEvaluation.EvaluateSentence(encoding.Ids, positions, maskId, p, forwards.CachedIds(encoding.TypeIds), scores);
            var (comprehensiveness2, sufficiency2) = FaithfulnessEvaluation.EraserSentence(input, positions, p, forwards.Cached, scores);

            Assert.True(forwards.Distinct < forwards.Requested, $"no repeated copies in {forwards.Requested}");
            Assert.Equal(importances, importances2);
            foreach (var m in methods)
            {
                Assert.Equal(rho[m], rho2[m]);
                Assert.Equal(aopc[m], aopc2[m]);
                Assert.Equal(comprehensiveness[m], comprehensiveness2[m]);
                Assert.Equal(sufficiency[m], sufficiency2[m]);
            }
        }
    }
}
