using System.Text.Json;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Heads;

/// <summary>
/// The sequence-classification head of minilm-l6-sst2 against ../shared/fixtures/heads/minilm-l6-sst2 (HF
/// BertForSequenceClassification in float64): logits, probabilities, and the leave-one-out ([MASK]) logits.
/// </summary>
public class SequenceClassifierTests
{
    const double Tolerance = 1e-4;
    static readonly Lazy<EncoderModel> Model = new(() => EncoderModel.Load(SharedData.Models("minilm-l6-sst2")));

    public static IEnumerable<object[]> Cases()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(SharedData.Fixtures("heads", "minilm-l6-sst2", "index.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray()
            .Select(c => new object[] { c.GetProperty("id").GetString()!, c.GetProperty("text").GetString()!, c.GetProperty("label").GetString()! })
            .ToArray();
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Classify_Sst2Case_MatchesReferenceLogitsAndLabel(string id, string text, string label)
    {
        using var expected = SafeTensorsFile.Open(SharedData.Fixtures("heads", "minilm-l6-sst2", id + ".safetensors"));
        var model = Model.Value;
        var encoding = model.Tokenize(text);
        Assert.Equal(expected.GetInt64("input_ids").Select(x => (int)x), encoding.Ids);

        var result = model.Classify([encoding])[0];
        Compare.AllClose($"{id} logits", expected.GetFloat32("logits").Span, result.Logits, [2], new Tolerance(Tolerance, 0));
        Compare.AllClose($"{id} probs", expected.GetFloat32("probs").Span, result.Scores, [2], new Tolerance(Tolerance, 0));
        Assert.Equal(label, result.Label);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Classify_EachTokenMasked_MatchesReferenceBlankOutLogits(string id, string text, string label)
    {
        _ = label;
        using var expected = SafeTensorsFile.Open(SharedData.Fixtures("heads", "minilm-l6-sst2", id + ".safetensors"));
        var model = Model.Value;
        var encoding = model.Tokenize(text);
        var positions = expected.GetInt64("blankout_positions");
        int mask = model.Tokenizer.MaskId ?? throw new InvalidOperationException("no [MASK] token");

        // All leave-one-out variants as one batch.
        var inputs = positions.Select(p =>
        {
            var ids = (int[])encoding.Ids.Clone();
            ids[p] = mask;
            return new EncoderInput(ids, encoding.TypeIds);
        }).ToArray();
        var hidden = model.Encoder.Forward(inputs).LastHiddenStates;
        var actual = hidden.SelectMany(h => model.Classifier!.Classify(h).Logits).ToArray();
        Compare.AllClose($"{id} blankout_logits", expected.GetFloat32("blankout_logits").Span, actual, [positions.Length, 2],
            new Tolerance(Tolerance, 0));
    }

    [Fact]
    public void Load_ModelWithoutHead_HasNoClassifierAndClassifyExplains()
    {
        using var model = EncoderModel.Load(SharedData.Models("bert-mlm-random"));
        Assert.Null(model.Classifier);
        var e = Assert.Throws<ModelFormatException>(() => model.Classify([model.Tokenize("hello")]));
        Assert.Contains("no sequence-classification head", e.Message);
    }

    [Fact]
    public void Labels_Sst2Config_AreNegativePositive() => Assert.Equal(["negative", "positive"], Model.Value.Classifier!.Labels);
}
