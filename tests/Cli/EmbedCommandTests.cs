using System.Text;
using System.Text.Json;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary><c>mixlens embed</c>: sentence embeddings against the fixture <c>sentence_embedding</c>.</summary>
public class EmbedCommandTests
{
    const string MiniLm = "all-MiniLM-L6-v2";
    static readonly Tolerance EmbeddingTolerance = new(1e-5, 0);

    [Fact]
    public void EmbedText_FoxCase_MatchesFixtureSentenceEmbedding()
    {
        var fixtures = ModelFixtures.Load(MiniLm);
        var c = fixtures.Case("fox");
        var result = CliHarness.RunOk("embed", "--model", CliHarness.Model(MiniLm), "--text", c.Text);

        var embedding = Assert.Single(Parse(result.Stdout));
        Assert.Equal(fixtures.Hidden, embedding.Length);
        using var expected = SafeTensorsFile.Open(SharedData.Fixtures(MiniLm, c.File));
        Compare.AllClose("fox embed", expected.GetFloat32("sentence_embedding").Span, embedding, [embedding.Length], EmbeddingTolerance);
    }

    [Fact]
    public void EmbedText_TextPair_MatchesFixtureSentenceEmbedding()
    {
        var c = ModelFixtures.Load(MiniLm).Case("pair_station");
        var result = CliHarness.RunOk("embed", "--model", CliHarness.Model(MiniLm), "--text", c.Text, "--text-pair", c.TextPair!);
        var embedding = Assert.Single(Parse(result.Stdout));
        using var expected = SafeTensorsFile.Open(SharedData.Fixtures(MiniLm, c.File));
        Compare.AllClose("pair_station embed", expected.GetFloat32("sentence_embedding").Span, embedding, [embedding.Length], EmbeddingTolerance);
    }

    [Fact]
    public void EmbedInput_FixtureTextsOnePerLine_EachMatchesItsFixture()
    {
        // texts of different lengths batched together, the 512-token case truncated
        var cases = ModelFixtures.Load(MiniLm).Cases.Where(c => c.TextPair is null && !c.Text.Contains('\n')).ToArray();
        using var temp = new TempFolder();
        string input = temp.File("texts.txt");
        File.WriteAllText(input, string.Join("\n", cases.Select(c => c.Text)), new UTF8Encoding(false));

        var embeddings = Parse(CliHarness.RunOk("embed", "--model", CliHarness.Model(MiniLm), "--input", input, "--truncate").Stdout);

        Assert.Equal(cases.Length, embeddings.Length);
        for (int k = 0; k < cases.Length; k++)
        {
            using var expected = SafeTensorsFile.Open(SharedData.Fixtures(MiniLm, cases[k].File));
            Compare.AllClose($"{cases[k].Id} embed", expected.GetFloat32("sentence_embedding").Span, embeddings[k],
                [embeddings[k].Length], EmbeddingTolerance);
        }
    }

    [Fact]
    public void EmbedText_ModelWithoutPoolingFiles_MeanPoolsUnnormalised()
    {
        var result = CliHarness.RunOk("embed", "--model", CliHarness.Model("bert-mlm-random"), "--text", "hello world");
        var embedding = Assert.Single(Parse(result.Stdout));
        Assert.Equal(32, embedding.Length);
        double norm = Math.Sqrt(embedding.Sum(v => (double)v * v));
        Assert.True(Math.Abs(norm - 1) > 1e-3, $"norm {norm}: no Normalize module, so no L2 normalisation expected");
    }

    [Fact]
    public void EmbedInput_OverLongLineWithoutTruncate_FailsNamingTheLine()
    {
        using var temp = new TempFolder();
        string input = temp.File("texts.txt");
        File.WriteAllText(input, "short\n" + string.Join(' ', Enumerable.Repeat("word", 600)) + "\n");
        CliHarness.RunUserError("line 2: the input is 602 tokens long, over the model's limit of 512",
            "embed", "--model", CliHarness.Model("random-bert-tiniest"), "--input", input);
    }

    [Fact]
    public void EmbedInput_WithTextPair_Fails()
    {
        using var temp = new TempFolder();
        string input = temp.File("texts.txt");
        File.WriteAllText(input, "a\nb\n");
        CliHarness.RunUserError("--text-pair goes with --text",
            "embed", "--model", CliHarness.Model("random-bert-tiniest"), "--input", input, "--text-pair", "x");
    }

    static float[][] Parse(string stdout) => stdout.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Length > 0).Select(l =>
    {
        using var doc = JsonDocument.Parse(l);
        Assert.Equal(["embedding"], doc.RootElement.EnumerateObject().Select(p => p.Name).ToArray());
        return doc.RootElement.GetProperty("embedding").EnumerateArray().Select(v => v.GetSingle()).ToArray();
    }).ToArray();
}
