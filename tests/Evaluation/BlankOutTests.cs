using System.Text.Json;
using MixLens.Analysis;
using MixLens.Analysis.Evaluation;
using MixLens.Engine;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Evaluation;

/// <summary>
/// Blank-out importances p − p_j of minilm-l6-sst2 against ../shared/fixtures/heads/minilm-l6-sst2 (HF, float64):
/// p − p_j from the fixture's logits and leave-one-out logits; and a small evaluation run on the real model.
/// </summary>
public class BlankOutTests
{
    const double Tolerance = 1e-4;
    static readonly Lazy<EncoderModel> Model = new(() => EncoderModel.Load(SharedData.Models("minilm-l6-sst2")));

    public static IEnumerable<object[]> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(SharedData.Fixtures("heads", "minilm-l6-sst2", "index.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => new object[] { c.GetProperty("id").GetString()!, c.GetProperty("text").GetString()! })
            .ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Importances_Sst2Case_MatchReferenceBlankOut(string id, string text)
    {
        using var expected = SafeTensorsFile.Open(SharedData.Fixtures("heads", "minilm-l6-sst2", id + ".safetensors"));
        var model = Model.Value;
        var encoding = model.Tokenize(text);
        var positions = expected.GetInt64("blankout_positions").ToArray().Select(x => (int)x).ToArray();
        var logits = expected.GetFloat32("logits").ToArray();
        var blank = expected.GetFloat32("blankout_logits").ToArray();
        int predicted = logits[1] > logits[0] ? 1 : 0;
        double p = FaithfulnessEvaluation.Softmax(logits)[predicted];
        var reference = positions.Select((_, k) => p - FaithfulnessEvaluation.Softmax(blank.AsSpan(2 * k, 2).ToArray())[predicted]).ToArray();

        // p here comes from the engine, as in the evaluation.
        var engineLogits = model.Classify([encoding])[0].Logits;
        double engineP = FaithfulnessEvaluation.Softmax(engineLogits)[predicted];
        int mask = model.Tokenizer.MaskId!.Value;
        var actual = BlankOut.Importances(encoding.Ids, positions, mask, engineP,
            FaithfulnessEvaluation.ModelScore(model, encoding.TypeIds, predicted));

        Assert.Equal(reference.Length, actual.Length);
        for (int k = 0; k < actual.Length; k++)
            Assert.True(Math.Abs(actual[k] - reference[k]) <= Tolerance, $"{id} position {positions[k]}: {actual[k]} vs {reference[k]}");
    }

    [Fact]
    public void Run_FirstDevSentences_CountsAddUpAndRhoInRange()
    {
        var sentences = LabeledTsv.Read(Path.Combine(SharedData.Root, "data", "sst2-dev.tsv"), limit: 5);
        var methods = new[] { MixingMethod.Attention, MixingMethod.Rollout, MixingMethod.ValueZeroing, MixingMethod.Flow };
        var examples = new List<ExampleEvaluation>();
        var result = FaithfulnessEvaluation.Run(Model.Value, sentences, new EvaluationOptions(methods, FlowMaxTokens: 12), perExample: examples.Add);
        Assert.Equal(5, result.Sentences);
        Assert.Equal(5, examples.Count);
        Assert.InRange(result.Correct!.Value, 0, 5);
        foreach (var m in result.Methods)
        {
            Assert.Equal(result.Sentences - result.SkippedShort - m.SkippedTooLong, m.Aopc.Count);
            Assert.Equal(m.Aopc.Count, m.Spearman.Count + m.SkippedConstant);
            Assert.All(m.Spearman, r => Assert.InRange(r, -1.0, 1.0));
        }
    }
}
