using MixLens.Engine.Heads;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Encoder;

/// <summary>Sentence embeddings (mean pooling + L2 normalisation for all-MiniLM-L6-v2) against the fixtures.</summary>
public class SentenceEmbeddingTests
{
    public static IEnumerable<object[]> Cases() =>
        ModelFixtures.Load("all-MiniLM-L6-v2").Cases.Select(c => new object[] { c.Id });

    [Fact]
    public void Load_AllMiniLm_ReadsMeanPoolingWithNormalize()
    {
        var pooling = SentencePooling.Load(SharedData.Models("all-MiniLM-L6-v2"));
        Assert.Equal(new SentencePooling(PoolingMode.Mean, Normalize: true), pooling);
        Assert.Null(SentencePooling.Load(SharedData.Models("bert-mlm-random")));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Pool_AllMiniLmFixtureCase_MatchesReferenceEmbedding(string caseId)
    {
        var fixtures = ModelFixtures.Load("all-MiniLM-L6-v2");
        var c = fixtures.Case(caseId);
        var expected = fixtures.Open(c);
        if (!expected.Contains("sentence_embedding")) return;
        var pooling = SentencePooling.Load(SharedData.Models("all-MiniLM-L6-v2"))!;
        var (hidden, _) = ModelFixtures.Encoder("all-MiniLM-L6-v2").Forward(new EncoderInput(c.InputIds, c.TokenTypeIds));
        var embedding = pooling.Pool(hidden);
        Compare.AllClose($"{caseId} sentence_embedding", expected.GetFloat32("sentence_embedding").Span, embedding,
            [embedding.Length], fixtures.Tolerances["sentence_embedding"]);
    }

    [Theory]
    [InlineData("../outside")]
    [InlineData("/etc")]
    [InlineData("1_Pooling/../../outside")]
    public void Load_PoolingPathOutsideTheModelFolder_IsRefused(string path)
    {
        string dir = Directory.CreateTempSubdirectory("mixlens-pooling-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(dir, "modules.json"),
                $$"""[{"idx": 1, "name": "1", "path": "{{path}}", "type": "sentence_transformers.models.Pooling"}]""");
            var e = Assert.Throws<ModelFormatException>(() => SentencePooling.Load(dir));
            Assert.Contains("leads outside the model folder", e.Message);
            Assert.Contains("modules.json", e.Message);
        }
        finally { Directory.Delete(dir, recursive: true); }
    }

    [Fact]
    public void Load_PoolingPathInASubfolder_IsRead()
    {
        string dir = Directory.CreateTempSubdirectory("mixlens-pooling-").FullName;
        try
        {
            Directory.CreateDirectory(Path.Combine(dir, "1_Pooling"));
            File.WriteAllText(Path.Combine(dir, "modules.json"),
                """[{"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"}]""");
            File.WriteAllText(Path.Combine(dir, "1_Pooling", "config.json"), """{"pooling_mode_cls_token": true}""");
            Assert.Equal(new SentencePooling(PoolingMode.Cls, false), SentencePooling.Load(dir));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
