using MixLens.Engine;
using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Heads;

/// <summary>
/// The masked-LM head of bert-mlm-random (BertForMaskedLM, decoder tied to the word embeddings) against
/// ../shared/fixtures/heads/bert-mlm-random (HF in float64): logits at the mask positions and the top-5 predictions.
/// </summary>
public class MaskedLanguageModelHeadTests
{
    const string ModelName = "bert-mlm-random";
    static readonly Lazy<EncoderModel> Model = new(() => EncoderModel.Load(SharedData.Models(ModelName)));

    public static IEnumerable<object[]> Cases() => HeadFixtures.CaseIds(ModelName);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Logits_FixtureCase_MatchReferenceAtMaskPositions(string id)
    {
        var c = HeadFixtures.Case(ModelName, id);
        using var expected = HeadFixtures.Open(ModelName, c);
        var model = Model.Value;
        var encoding = HeadFixtures.Encode(model, c);
        var positions = expected.GetInt64("mask_positions").Select(p => (int)p).ToArray();
        Assert.Equal(Enumerable.Range(0, encoding.Length).Where(t => encoding.Ids[t] == model.Tokenizer.MaskId), positions);

        var (hidden, _) = model.Encoder.Forward(EncoderInput.From(encoding));
        var logits = model.MaskedLm!.Logits(hidden, positions);
        Assert.Equal(new[] { positions.Length, model.Config.VocabSize }, logits.Shape);
        Compare.AllClose($"{id} mlm_logits", expected.GetFloat32("mlm_logits").Span, logits.Data, logits.Shape,
            new Tolerance(HeadFixtures.Tolerance(ModelName), 0));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void FillMask_FixtureCase_Top5MatchesReference(string id)
    {
        var c = HeadFixtures.Case(ModelName, id);
        var model = Model.Value;
        var predictions = model.FillMask(HeadFixtures.Encode(model, c), topK: 5);
        Assert.Equal(c.Top5.Length, predictions.Length);
        Assert.NotEmpty(predictions);
        double tol = HeadFixtures.Tolerance(ModelName);
        for (int m = 0; m < predictions.Length; m++)
        {
            Assert.Equal(c.Top5[m].Select(e => (e.Id, e.Token)), predictions[m].Candidates.Select(a => (a.Id, a.Token)));
            for (int r = 0; r < 5; r++)
                Assert.True(Math.Abs(c.Top5[m][r].Prob - predictions[m].Candidates[r].Prob) <= tol,
                    $"{id} mask {m} rank {r}: prob {predictions[m].Candidates[r].Prob} vs reference {c.Top5[m][r].Prob}");
        }
    }

    [Fact]
    public void Load_BertMlmRandom_HasTiedDecoderAndNoOtherHead()
    {
        var model = Model.Value;
        Assert.NotNull(model.MaskedLm);
        Assert.True(model.MaskedLm!.TiedDecoder);
        Assert.Equal("BertForMaskedLM", model.MaskedLm.HfClass);
        Assert.Null(model.Classifier);
        Assert.Null(model.TokenClassifier);
    }

    [Fact]
    public void FillMask_TextWithoutMask_ThrowsNamingTheMaskToken()
    {
        var model = Model.Value;
        var e = Assert.Throws<EncoderInputException>(() => model.FillMask(model.Tokenize("no mask here")));
        Assert.Contains("the text has no mask token", e.Message);
        Assert.Contains("[MASK]", e.Message);
    }

    [Fact]
    public void FillMask_ModelWithoutHead_ThrowsNamingTheMissingTensor()
    {
        using var model = EncoderModel.Load(SharedData.Models("bert-tokcls-random"));
        Assert.Null(model.MaskedLm);
        var e = Assert.Throws<ModelFormatException>(() => model.FillMask(model.Tokenize("a [MASK]")));
        Assert.Contains("has no masked-LM head", e.Message);
        Assert.Contains("missing 'cls.predictions.transform.dense.weight'", e.Message);
        Assert.Contains("model.safetensors", e.Message);
    }

    [Fact]
    public void TopK_SmallRow_IsSoftmaxOrderedWithTiesInIdOrder()
    {
        float[] logits = [1f, 3f, 3f, 0f];
        var top = MaskedLanguageModelHead.TopK(logits, 3);
        Assert.Equal(new[] { 1, 2, 0 }, top.Select(t => t.Id));
        double sum = logits.Sum(z => Math.Exp(z));
        Assert.Equal(Math.Exp(3) / sum, top[0].Prob, 6);
        Assert.Equal(Math.Exp(1) / sum, top[2].Prob, 6);
        Assert.Equal(4, MaskedLanguageModelHead.TopK(logits, 10).Length);
        Assert.Throws<ArgumentOutOfRangeException>(() => MaskedLanguageModelHead.TopK(logits, 0));
    }
}
