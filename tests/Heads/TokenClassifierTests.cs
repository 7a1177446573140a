using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Heads;

/// <summary>
/// The token-classification head of bert-tokcls-random (BertForTokenClassification, 5 labels) against
/// ../shared/fixtures/heads/bert-tokcls-random (HF in float64): logits of every token.
/// </summary>
public class TokenClassifierTests
{
    const string ModelName = "bert-tokcls-random";
    static readonly Lazy<EncoderModel> Model = new(() => EncoderModel.Load(SharedData.Models(ModelName)));

    public static IEnumerable<object[]> Cases() => HeadFixtures.CaseIds(ModelName);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Tag_FixtureCase_TokenLogitsMatchReference(string id)
    {
        var c = HeadFixtures.Case(ModelName, id);
        using var expected = HeadFixtures.Open(ModelName, c);
        var model = Model.Value;
        var result = model.Tag(HeadFixtures.Encode(model, c));
        Assert.Equal(new[] { c.InputIds.Length, 5 }, result.Logits.Shape);
        Compare.AllClose($"{id} token_logits", expected.GetFloat32("token_logits").Span, result.Logits.Data, result.Logits.Shape,
            new Tolerance(HeadFixtures.Tolerance(ModelName), 0));

        // Each label is the argmax of the reference logits row.
        var reference = expected.GetFloat32("token_logits").ToArray();
        for (int t = 0; t < c.InputIds.Length; t++)
        {
            var row = reference.AsSpan(t * 5, 5);
            Assert.Equal(model.TokenClassifier!.Labels[System.Numerics.Tensors.TensorPrimitives.IndexOfMax(row)], result.Labels[t]);
        }
    }

    [Fact]
    public void Load_BertTokCls_LabelsFromId2LabelAndNoSequenceHead()
    {
        var model = Model.Value;
        Assert.Equal(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], model.TokenClassifier!.Labels);
        Assert.Null(model.Classifier);
        Assert.Null(model.MaskedLm);
    }

    [Fact]
    public void Tag_SequenceClassifierCheckpoint_ExplainsTheClassifierIsASequenceHead()
    {
        using var model = EncoderModel.Load(SharedData.Models("minilm-l6-sst2"));
        Assert.Null(model.TokenClassifier);
        var e = Assert.Throws<ModelFormatException>(() => model.Tag(model.Tokenize("a fine movie")));
        Assert.Equal($"tag: {SharedData.Models("minilm-l6-sst2")} is a sequence classifier (architectures: BertForSequenceClassification); " +
            "tag needs a token-classification head", e.Message);
    }

    [Fact]
    public void Tag_EncoderOnlyCheckpoint_NamesTheMissingClassifier()
    {
        using var model = EncoderModel.Load(SharedData.Models("bert-mlm-random"));
        var e = Assert.Throws<ModelFormatException>(() => model.Tag(model.Tokenize("hello")));
        Assert.Contains("missing 'classifier.weight'", e.Message);
    }
}
