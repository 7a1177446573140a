using System.Globalization;
using System.Text.Json;
using MixLens.Engine.SafeTensors;
using MixLens.Tests.Encoder;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary><c>mixlens analyze</c>: JSON against the fixture analyses, and the terminal table.</summary>
public class AnalyzeCommandTests
{
    const string MiniLm = "all-MiniLM-L6-v2";

    /// <summary>(model, --method, fixture tensor): every method once, the costly Value Zeroing on the tiny models, and
    /// each non-BERT family once (its tokenizer and encoder end to end).</summary>
    public static TheoryData<string, string, string> JsonCases() => new()
    {
        { MiniLm, "attention", "analysis.attention" },
        { MiniLm, "rollout", "analysis.rollout" },
        { "random-bert-tiniest", "value-zeroing", "analysis.value_zeroing" },
        { "bert-mlm-random", "value-zeroing", "analysis.value_zeroing" },
        { "bert-mlm-random", "value-zeroing-rollout", "analysis.value_zeroing_rollout" },
        { "bert-mlm-random", "rollout", "analysis.rollout" },
        { MiniLm, "flow", "analysis.flow" },
        { MiniLm, "attention-norm", "analysis.attention_norm" },
        { MiniLm, "alti", "analysis.alti" },
        { MiniLm, "alti-rollout", "analysis.alti_rollout" },
        { MiniLm, "globenc", "analysis.globenc" },
        { MiniLm, "globenc-rollout", "analysis.globenc_rollout" },
        { "roberta-random", "alti", "analysis.alti" },
        { "distilbert-random", "globenc", "analysis.globenc" },
        { "electra-random", "value-zeroing", "analysis.value_zeroing" },
    };

    [Theory]
    [MemberData(nameof(JsonCases))]
    public void AnalyzeJson_FoxCase_MatchesFixtureAnalysis(string model, string method, string tensor)
    {
        var fixtures = ModelFixtures.Load(model);
        var c = fixtures.Case("fox");
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model(model), "--text", c.Text,
            "--method", method, "--format", "json");

        Assert.Single(result.StdoutLines);
        using var doc = JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.Equal(model, root.GetProperty("model").GetString());
        Assert.Equal(method, root.GetProperty("method").GetString());
        Assert.Equal(c.Tokens, root.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray());

        int L = fixtures.Layers, n = c.NTokens;
        var scores = ReadScores(root.GetProperty("scores"), L, n);
        var expected = SafeTensorsFile.Open(SharedData.Fixtures(model, c.File));
        using (expected)
        {
            var tol = EncoderParityTests.ToleranceFor(fixtures, tensor);
            Compare.AllClose($"{model} fox {method}", expected.GetFloat32(tensor).Span, scores, [L, n, n], tol);
        }
    }

    /// <summary>N-ResLN needs no classification head: <c>analyze --method attention-norm-res-ln --format json</c> on
    /// headless models, against the gradient fixtures' <c>analysis.attention_norm_res_ln</c> (norm_matrices tolerance).</summary>
    [Theory]
    [InlineData(MiniLm)]
    [InlineData("roberta-random")]
    public void AnalyzeJson_AttentionNormResLnOnModelWithoutHead_MatchesGradientFixture(string model)
    {
        using (var loaded = MixLens.Engine.EncoderModel.Load(CliHarness.Model(model)))
            Assert.Null(loaded.Classifier);
        var fixtures = Analysis.AttentionNormResLnTests.GradientFixtures.Load(model);
        var c = fixtures.Cases.Single(x => x.Id == "fox");
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model(model), "--text", c.Text,
            "--method", "attention-norm-res-ln", "--format", "json");

        Assert.Single(result.StdoutLines);
        using var doc = JsonDocument.Parse(result.Stdout);
        var root = doc.RootElement;
        Assert.Equal("attention-norm-res-ln", root.GetProperty("method").GetString());
        Assert.Equal(c.Tokens, root.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray());
        int L = fixtures.Layers, n = c.InputIds.Length;
        var scores = ReadScores(root.GetProperty("scores"), L, n);
        using var expected = fixtures.Open(c);
        Compare.AllClose($"{model} fox attention-norm-res-ln", expected.GetFloat32("analysis.attention_norm_res_ln").Span, scores,
            [L, n, n], fixtures.NormMatrices);
    }

    [Fact]
    public void AnalyzeJson_MethodNameInOtherCase_AcceptedAndReportedInCanonicalForm()
    {
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model("random-bert-tiniest"), "--text", "hello",
            "--method", "ROLLOUT", "--format", "json");
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal("rollout", doc.RootElement.GetProperty("method").GetString());
    }

    [Fact]
    public void AnalyzeJson_TextPair_TokensHaveBothSegments()
    {
        var c = ModelFixtures.Load("bert-mlm-random").Case("pair");
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model("bert-mlm-random"), "--text", c.Text,
            "--text-pair", c.TextPair!, "--method", "rollout", "--format", "json");
        using var doc = JsonDocument.Parse(result.Stdout);
        Assert.Equal(c.Tokens, doc.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray());
        using var expected = SafeTensorsFile.Open(SharedData.Fixtures("bert-mlm-random", c.File));
        var scores = ReadScores(doc.RootElement.GetProperty("scores"), 2, c.NTokens);
        Compare.AllClose("bert-mlm-random pair rollout", expected.GetFloat32("analysis.rollout").Span, scores,
            [2, c.NTokens, c.NTokens], new Tolerance(1e-5, 0));
    }

    [Fact]
    public void AnalyzeTable_FoxRollout_PrintsTitleLabelsAndFixtureValuesOfLastLayer()
    {
        var fixtures = ModelFixtures.Load(MiniLm);
        var c = fixtures.Case("fox");
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model(MiniLm), "--text", c.Text,
            "--method", "rollout", "--width", "120");
        var lines = result.StdoutLines;

        Assert.Equal("rollout · layer 5 of 0..5 · all-MiniLM-L6-v2", lines[0]);
        // header row: every token label as a column; then one row per token: index, label, n cells
        string header = lines.Single(l => l.TrimStart().StartsWith("[CLS]", StringComparison.Ordinal));
        Assert.Equal(c.Tokens, header.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        var rows = lines.SkipWhile(l => l != header).Skip(1).ToArray();
        Assert.Equal(c.NTokens, rows.Length);

        using var expected = SafeTensorsFile.Open(SharedData.Fixtures(MiniLm, c.File));
        var rollout = expected.GetFloat32("analysis.rollout").Span;
        int n = c.NTokens, last = fixtures.Layers - 1;
        for (int i = 0; i < n; i++)
        {
            var fields = rows[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), fields[0]);
            Assert.Equal(c.Tokens[i], fields[1]);
            Assert.Equal(n, fields.Length - 2);
            for (int j = 0; j < n; j++)
            {
                double shown = double.Parse(fields[2 + j], CultureInfo.InvariantCulture);
                double exact = rollout[(last * n + i) * n + j];
                Assert.True(Math.Abs(shown - exact) <= 0.005 + 1e-6, $"row {i} col {j}: shown {fields[2 + j]}, fixture {exact}");
            }
        }
    }

    [Fact]
    public void AnalyzeTable_LayerOption_ShowsThatLayer()
    {
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model("bert-mlm-random"), "--text", "hello world",
            "--layer", "0", "--width", "120");
        Assert.Equal("attention · layer 0 of 0..1 · bert-mlm-random", result.StdoutLines[0]);
        Assert.Contains(result.StdoutLines, l => l.Contains("hello") && l.Contains("world") && l.Contains("[SEP]"));
    }

    [Theory]
    [InlineData(80)]
    [InlineData(120)]
    public void AnalyzeTable_LongSentenceNarrowWidth_ListsTopInputsWithinWidth(int width)
    {
        var c = ModelFixtures.Load(MiniLm).Case("contact");   // 30 tokens: no grid fits 120 columns
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model(MiniLm), "--text", c.Text,
            "--method", "rollout", "--width", width.ToString(CultureInfo.InvariantCulture));
        var lines = result.StdoutLines;

        Assert.Contains(lines, l => l.Contains($"do not fit in {width} columns"));
        foreach (var line in lines)
            Assert.True(line.Length <= width, $"line of {line.Length} characters exceeds --width {width}: '{line}'");
        // one line per output token, naming it and its strongest input first
        var rows = lines.Where(l => l.Contains(" <-")).ToArray();
        Assert.Equal(c.NTokens, rows.Length);
        for (int i = 0; i < c.NTokens; i++)
        {
            var fields = rows[i].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(i.ToString(CultureInfo.InvariantCulture), fields[0]);
            Assert.Matches(@"#\d+$", fields[3]);
        }
    }

    [Fact]
    public void AnalyzeTable_Width40_EveryLineFits()
    {
        var c = ModelFixtures.Load("bert-mlm-random").Case("accents");
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model("bert-mlm-random"), "--text", c.Text, "--width", "40");
        Assert.All(result.StdoutLines, l => Assert.True(l.Length <= 40, $"line of {l.Length} characters: '{l}'"));
        Assert.Equal(c.NTokens, result.StdoutLines.Count(l => l.Contains(" <-")));
    }

    [Fact]
    public void AnalyzeTable_WidthBelow40_FailsAskingForMore()
    {
        CliHarness.RunUserError("--width 20 is too narrow; give at least 40 columns",
            "analyze", "--model", CliHarness.Model("random-bert-tiniest"), "--text", "hello", "--width", "20");
    }

    [Fact]
    public void AnalyzeTable_ShortSentenceWidth80_PrintsGridWithinWidth()
    {
        // 9 tokens: 9 × 6 columns + index and labels fit in 80
        var result = CliHarness.RunOk("analyze", "--model", CliHarness.Model(MiniLm), "--text", "The cat sat on the mat.", "--width", "80");
        Assert.DoesNotContain(result.StdoutLines, l => l.Contains("do not fit"));
        Assert.All(result.StdoutLines, l => Assert.True(l.Length <= 80, $"line of {l.Length} characters: '{l}'"));
        Assert.Equal(2 + 1 + 9, result.StdoutLines.Length);   // title, legend, header, rows
    }

    static float[] ReadScores(JsonElement scores, int layers, int n)
    {
        Assert.Equal(JsonValueKind.Array, scores.ValueKind);
        Assert.Equal(layers, scores.GetArrayLength());
        var flat = new float[layers * n * n];
        int k = 0;
        foreach (var layer in scores.EnumerateArray())
        {
            Assert.Equal(n, layer.GetArrayLength());
            foreach (var row in layer.EnumerateArray())
            {
                Assert.Equal(n, row.GetArrayLength());
                foreach (var v in row.EnumerateArray()) flat[k++] = v.GetSingle();
            }
        }
        return flat;
    }
}
