using System.Text.Json;
using MixLens.Analysis;
using MixLens.Analysis.Methods;
using MixLens.Engine;
using MixLens.Engine.Model;
using MixLens.Tests.Infrastructure;

namespace MixLens.Tests.Cli;

/// <summary>
/// <c>mixlens analyze</c> with the gradient methods: the printed numbers equal <see cref="MixingMethods.Compute"/> on
/// the same text (tokenized by the same model, target and steps as the command used), the explained class is the
/// predicted one unless --target names another, and bad input gets one error line.
/// </summary>
public class AnalyzeGradientTests
{
    const string Sst2 = "minilm-l6-sst2";
    const string Text = "A gorgeous, witty movie.";
    static string Sst2Model => CliHarness.Model(Sst2);

    static JsonDocument AnalyzeJson(string model, params string[] args) =>
        JsonDocument.Parse(CliHarness.RunOk(["analyze", "--model", model, "--format", "json", .. args]).Stdout);

    static float[] Flat(JsonElement scores) => scores.ValueKind == JsonValueKind.Array && scores.GetArrayLength() > 0 && scores[0].ValueKind == JsonValueKind.Number
        ? scores.EnumerateArray().Select(v => v.GetSingle()).ToArray()
        : scores.EnumerateArray().SelectMany(l => l.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle()))).ToArray();

    /// <summary>What the command computes, through the library: the method with the model's gradient options.</summary>
    static Tensor Library(string modelDir, string method, string text, int? target = null, int? steps = null, int? head = null)
    {
        using var model = EncoderModel.Load(modelDir);
        var encoding = model.Tokenize(text);
        var input = EncoderInput.From(encoding);
        Assert.True(MixingMethods.TryParse(method, out var m));
        if (MixingMethods.NeedsClassifier(m)) target ??= GradientOptions.PredictedClass(model.Encoder, model.Classifier!, input);
        return MixingMethods.Compute(m, model.Encoder, input, head: head, gradients: GradientOptions.ForText(model, encoding, target, steps));
    }

    [Theory]
    [InlineData("saliency", null)]
    [InlineData("gradient-x-input", null)]
    [InlineData("integrated-gradients", "4")]
    public void AnalyzeJson_TokenVectorMethod_OneScorePerTokenEqualToCompute(string method, string? steps)
    {
        string[] extra = steps is null ? [] : ["--steps", steps];
        using var json = AnalyzeJson(Sst2Model, ["--text", Text, "--method", method, .. extra]);
        var root = json.RootElement;
        Assert.Equal(method, root.GetProperty("method").GetString());
        int n = root.GetProperty("tokens").GetArrayLength();
        var scores = root.GetProperty("scores");
        Assert.Equal(n, scores.GetArrayLength());
        Assert.All(scores.EnumerateArray(), v => Assert.Equal(JsonValueKind.Number, v.ValueKind));

        var expected = Library(Sst2Model, method, Text, steps: steps is null ? null : int.Parse(steps));
        Assert.Equal([n], expected.Shape);
        Assert.Equal(expected.Data, Flat(scores));   // shortest round-trip floats: bit for bit

        using var model = EncoderModel.Load(Sst2Model);
        var predicted = model.Classify([model.Tokenize(Text)])[0];
        Assert.Equal(predicted.LabelId, root.GetProperty("target").GetInt32());
        Assert.Equal(predicted.Label, root.GetProperty("label").GetString());
    }

    [Fact]
    public void AnalyzeJson_IntegratedGradients_PrintsCompletenessOfTheDefaultSteps()
    {
        using var json = AnalyzeJson(Sst2Model, "--text", Text, "--method", "integrated-gradients");
        var root = json.RootElement;
        Assert.Equal(IntegratedGradients.DefaultSteps, root.GetProperty("steps").GetInt32());
        double sum = root.GetProperty("ig_sum").GetDouble(), gap = root.GetProperty("ig_gap").GetDouble();

        using var model = EncoderModel.Load(Sst2Model);
        var encoding = model.Tokenize(Text);
        var input = EncoderInput.From(encoding);
        var options = GradientOptions.ForText(model, encoding);
        var ig = IntegratedGradients.Compute(model.Encoder, model.Classifier!, input, options.SpecialTokens!, options.PadTokenId);
        Assert.Equal(ig.Sum, sum);
        Assert.Equal(ig.Gap, gap);
        Assert.Equal(ig.Scores, Flat(root.GetProperty("scores")));
        // Σ IG ≈ z_c(x) − z_c(x′) with 50 Gauss–Legendre points (the fixtures agree to ~1e-5)
        Assert.True(Math.Abs(sum - gap) <= 1e-3 * Math.Max(1, Math.Abs(gap)), $"sum {sum} gap {gap}");
        // special tokens keep their own embedding as baseline: no attribution
        var special = options.SpecialTokens!;
        var scores = Flat(root.GetProperty("scores"));
        for (int j = 0; j < scores.Length; j++) if (special[j]) Assert.Equal(0f, scores[j]);
    }

    [Fact]
    public void AnalyzeTable_IntegratedGradients_OneRowPerTokenAndTheCompletenessLine()
    {
        var result = CliHarness.RunOk("analyze", "--model", Sst2Model, "--text", Text, "--method", "integrated-gradients", "--steps", "4", "--width", "100");
        var lines = result.StdoutLines;
        Assert.StartsWith("integrated-gradients · target 1 (positive) · 4 steps · minilm-l6-sst2", lines[0]);
        Assert.Contains(lines, l => l.StartsWith("completeness: Σ IG = ") && l.Contains("z_c(x) − z_c(x′) = "));
        using var model = EncoderModel.Load(Sst2Model);
        var tokens = model.Tokenize(Text).Tokens;
        var expected = Library(Sst2Model, "integrated-gradients", Text, steps: 4);
        var rows = lines[^tokens.Length..];
        for (int j = 0; j < tokens.Length; j++)
        {
            var cells = rows[j].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(j.ToString(), cells[0]);
            Assert.Equal(tokens[j], cells[1]);
            Assert.Equal(expected.Data[j], float.Parse(cells[2], System.Globalization.CultureInfo.InvariantCulture), 4e-4f);
        }
    }

    [Fact]
    public void AnalyzeTable_Saliency_BarsScaleWithTheScores()
    {
        var result = CliHarness.RunOk("analyze", "--model", Sst2Model, "--text", Text, "--method", "saliency", "--width", "80");
        var expected = Library(Sst2Model, "saliency", Text).Data;
        var rows = result.StdoutLines[^expected.Length..];
        int longest = Array.IndexOf(expected, expected.Max());
        Assert.True(rows.All(r => r.Length <= 80), "a row is wider than --width");
        int Bar(string row) => row.Count(c => c == '█');
        Assert.Equal(rows.Max(Bar), Bar(rows[longest]));
        Assert.True(Bar(rows[longest]) > 0);
    }

    [Fact]
    public void AnalyzeJson_AttAttrOneHead_EqualsThatHeadOfTheHeadTensor()
    {
        using var json = AnalyzeJson(Sst2Model, "--text", Text, "--method", "attattr", "--head", "2", "--steps", "3");
        var root = json.RootElement;
        Assert.Equal(3, root.GetProperty("steps").GetInt32());
        using var model = EncoderModel.Load(Sst2Model);
        var input = EncoderInput.From(model.Tokenize(Text));
        var heads = AttentionAttribution.ComputeHeads(model.Encoder, model.Classifier!, input, root.GetProperty("target").GetInt32(), steps: 3);
        var expected = AttentionAttribution.Reduce(heads, 2);
        Assert.Equal(expected.Data, Flat(root.GetProperty("scores")));
        Assert.Equal(expected.Data, Library(Sst2Model, "attattr", Text, steps: 3, head: 2).Data);
        Assert.NotEqual(AttentionAttribution.Reduce(heads).Data, expected.Data);
    }

    [Theory]
    [InlineData("negative", 0)]
    [InlineData("NEGATIVE", 0)]
    [InlineData("0", 0)]
    [InlineData("1", 1)]
    public void AnalyzeJson_CheferWithTarget_ExplainsThatClass(string target, int id)
    {
        using var json = AnalyzeJson(Sst2Model, "--text", Text, "--method", "chefer", "--target", target);
        var root = json.RootElement;
        Assert.Equal(id, root.GetProperty("target").GetInt32());
        Assert.Equal(id == 0 ? "negative" : "positive", root.GetProperty("label").GetString());
        Assert.Equal(Library(Sst2Model, "chefer", Text, target: id).Data, Flat(root.GetProperty("scores")));
    }

    [Fact]
    public void AnalyzeJson_HtaOnHeadlessModel_EqualsComputeWithoutATarget()
    {
        string roberta = CliHarness.Model("roberta-random");
        using var json = AnalyzeJson(roberta, "--text", Text, "--method", "hta");
        var root = json.RootElement;
        Assert.False(root.TryGetProperty("target", out _));
        Assert.Equal(Library(roberta, "hta", Text).Data, Flat(root.GetProperty("scores")));
    }

    [Fact]
    public void AnalyzeJson_HtaWithTruncate_CutsTheTextToTheLimit()
    {
        string roberta = CliHarness.Model("roberta-random");
        string text = "one two three four five six seven eight nine ten";
        using var json = AnalyzeJson(roberta, "--text", text, "--method", "hta", "--hta-max-tokens", "6", "--truncate");
        var tokens = json.RootElement.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()).ToArray();
        Assert.Equal(6, tokens.Length);
        Assert.Equal(6 * 6 * 2, Flat(json.RootElement.GetProperty("scores")).Length);
    }

    [Fact]
    public void AnalyzeJson_TinyClassifierEveryGradientMethod_EqualsCompute()
    {
        foreach (var m in Enum.GetValues<MixingMethod>().Where(MixingMethods.IsGradientMethod))
        {
            string name = MixingMethods.NameOf(m);
            string[] steps = MixingMethods.TakesSteps(m) ? ["--steps", "5"] : [];
            using var json = AnalyzeJson(TinyClassifier.Directory, ["--text", Text, "--method", name, .. steps]);
            Assert.Equal(Library(TinyClassifier.Directory, name, Text, steps: steps.Length > 0 ? 5 : null).Data, Flat(json.RootElement.GetProperty("scores")));
        }
    }

    [Fact]
    public void SpecialTokenMask_UnknownTokenInTheText_IsSpecialAsTheFixturesMarkIt()
    {
        // integrated gradients keeps special tokens' own embedding as baseline; the gradient fixtures (and ferret) call
        // special every id of the tokenizer's special tokens, [UNK] in the text included, not only [CLS] and [SEP]
        using var model = EncoderModel.Load(Sst2Model);
        var encoding = model.Tokenize("pizza 🍕 time");
        var special = GradientFixtures.Load(Sst2).SpecialTokenIds;
        Assert.Contains(encoding.Ids, id => id == model.Tokenizer.TokenToId("[UNK]"));
        Assert.Equal(encoding.Ids.Select(special.Contains), GradientOptions.SpecialTokenMask(model.Tokenizer, encoding));
    }

    // ---- one-line errors ----------------------------------------------------------------------------------------

    [Theory]
    [InlineData("saliency")]
    [InlineData("gradient-x-input")]
    [InlineData("integrated-gradients")]
    [InlineData("attattr")]
    [InlineData("chefer")]
    public void Analyze_ClassifierMethodOnModelWithoutHead_OneLineNamingWhatIsMissing(string method)
    {
        string line = CliHarness.RunUserError($"{method} explains the class of a sequence classifier, and all-MiniLM-L6-v2 has none",
            "analyze", "--model", CliHarness.Model("all-MiniLM-L6-v2"), "--text", "hello", "--method", method);
        Assert.Contains("no sequence-classification head: missing 'classifier.weight'", line);
    }

    [Theory]
    [InlineData("2")]
    [InlineData("-1")]
    [InlineData("great")]
    public void Analyze_TargetNotAClass_OneLineListingTheClasses(string target) =>
        CliHarness.RunUserError($"--target {target} is not a class of minilm-l6-sst2; its classes are 0 negative, 1 positive",
            "analyze", "--model", Sst2Model, "--text", "hello", "--method", "saliency", "--target", target);

    [Theory]
    [InlineData("integrated-gradients", "0")]
    [InlineData("attattr", "-3")]
    public void Analyze_StepsNotPositive_OneLine(string method, string steps) =>
        CliHarness.RunUserError($"--steps must be at least 1, not {steps}", "analyze", "--model", Sst2Model, "--text", "hello",
            "--method", method, "--steps", steps);

    [Theory]
    [InlineData("--steps", "4", "--steps applies to integrated-gradients and attattr only, not to saliency")]
    [InlineData("--target", "1", "--target applies to the methods that explain a classifier's class")]
    [InlineData("--hta-max-tokens", "8", "--hta-max-tokens applies to hta only")]
    [InlineData("--layer", "1", "saliency gives one score per token")]
    public void Analyze_OptionForAnotherMethod_OneLine(string option, string value, string message)
    {
        string method = option == "--target" ? "rollout" : "saliency";
        CliHarness.RunUserError(message, "analyze", "--model", Sst2Model, "--text", "hello", "--method", method, option, value);
    }

    [Fact]
    public void Analyze_HtaOverItsTokenLimit_OneLineWithLengthLimitAndCost()
    {
        string line = CliHarness.RunUserError("hta on 12 tokens is over --hta-max-tokens 8",
            "analyze", "--model", CliHarness.Model("all-MiniLM-L6-v2"), "--text", "The quick brown fox jumps over the lazy dog.",
            "--method", "hta", "--hta-max-tokens", "8");
        Assert.Contains("n·d = 12·384 = 4,608 tangents", line);
        Assert.Contains("--truncate", line);
        Assert.Contains("raise --hta-max-tokens", line);
    }

    [Fact]
    public void Analyze_HtaMaxTokensTooSmall_OneLine() =>
        CliHarness.RunUserError("--hta-max-tokens must be at least 4, not 2", "analyze", "--model", CliHarness.Model("roberta-random"),
            "--text", "hello", "--method", "hta", "--hta-max-tokens", "2");
}
